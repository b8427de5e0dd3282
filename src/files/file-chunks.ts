import type { FileHandle } from "node:fs/promises";

/** Read size for streaming files: large enough to amortize a system call, small in memory. */
export const readChunkSize = 256 * 1024;

async function readChunk(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
}

/**
 * Reads bytes `start` to `end` (exclusive) of an open file in chunks of at most
 * `readChunkSize` bytes, reading the next chunk while the caller works on the current one.
 * Each returned Buffer is fresh, so callers may keep it. A file that ends early ends the
 * iteration early.
 */
export async function* readFileRange(
  handle: FileHandle,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  const next = (position: number): Promise<Buffer> | undefined => {
    if (position >= end) return undefined;
    const read = readChunk(handle, position, Math.min(readChunkSize, end - position));
    // A read left pending when the caller stops early must not become an unhandled rejection.
    read.catch(() => undefined);
    return read;
  };
  let position = start;
  let pending = next(position);
  while (pending !== undefined) {
    const chunk = await pending;
    if (chunk.length === 0) return;
    position += chunk.length;
    pending = next(position);
    yield chunk;
  }
}
