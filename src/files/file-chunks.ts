import type { FileHandle } from "node:fs/promises";

/** Read size for streaming files: 1 MiB amortizes the system call and the thread-pool hop. */
export const readChunkSize = 1024 * 1024;

/** Reads kept in flight ahead of the chunk the caller is working on. */
export const readAheadChunks = 2;

/** Options of `readFileRange`. */
export interface ReadFileRangeOptions {
  /** Maximum bytes per returned chunk, `readChunkSize` by default. */
  readonly chunkSize?: number;
  /**
   * Reads into `readAheadChunks + 1` buffers in turn instead of a fresh Buffer per chunk. A
   * returned chunk is then valid only until the caller requests the next one, so use it only
   * where the chunk is consumed (copied, encrypted or decrypted) before that.
   */
  readonly reuseBuffers?: boolean;
}

/**
 * Reads bytes `start` to `end` (exclusive) of an open file in chunks of at most `chunkSize`
 * bytes. Up to `readAheadChunks` reads run on libuv's thread pool while the caller works on the
 * current chunk, so memory stays below `(readAheadChunks + 1) * chunkSize` whatever the range.
 * Each returned Buffer is fresh unless `reuseBuffers` is set. A file that ends early ends the
 * iteration early.
 */
export async function* readFileRange(
  handle: FileHandle,
  start: number,
  end: number,
  options: ReadFileRangeOptions = {},
): AsyncGenerator<Buffer> {
  const chunkSize = options.chunkSize ?? readChunkSize;
  const ring = options.reuseBuffers
    ? Array.from({ length: readAheadChunks + 1 }, () =>
        Buffer.allocUnsafe(Math.min(chunkSize, Math.max(0, end - start))),
      )
    : undefined;
  let ringIndex = 0;
  const pending: { read: Promise<Buffer>; length: number }[] = [];
  let position = start;
  const issueRead = (): void => {
    const length = Math.min(chunkSize, end - position);
    const buffer =
      ring === undefined ? Buffer.allocUnsafe(length) : ring[ringIndex++ % ring.length]!;
    const read = handle
      .read(buffer, 0, length, position)
      .then(({ bytesRead }) =>
        bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead),
      );
    // A read left pending when the caller stops early must not become an unhandled rejection.
    read.catch(() => undefined);
    pending.push({ read, length });
    position += length;
  };

  while (pending.length < readAheadChunks && position < end) issueRead();
  while (pending.length > 0) {
    const { read, length } = pending.shift()!;
    const chunk = await read;
    if (chunk.length === 0) return;
    if (chunk.length < length) {
      // The file ended before `end`, so the reads after this one would leave a gap.
      yield chunk;
      return;
    }
    // The ring buffer of this chunk comes after those of the pending reads, so refilling the
    // read-ahead never overwrites it.
    if (position < end) issueRead();
    yield chunk;
  }
}
