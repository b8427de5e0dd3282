import type { FileHandle } from "node:fs/promises";

/** Read size for streaming files: large enough to amortize a system call, small in memory. */
export const readChunkSize = 256 * 1024;

/**
 * Reads bytes `start` to `end` (exclusive) of an open file in chunks of at most
 * `readChunkSize` bytes. Each returned Buffer is fresh, so callers may keep it.
 */
export async function* readFileRange(
  handle: FileHandle,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  let position = start;
  while (position < end) {
    const length = Math.min(readChunkSize, end - position);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
  }
}
