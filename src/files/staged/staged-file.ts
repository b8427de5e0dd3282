/**
 * The staged-file format: how plaintext waits on the executor's disk between download,
 * function run and upload. The file is a sequence of chunks, each AES-256-GCM under a random
 * key that exists only in the memory of one task:
 *
 *   chunk i = AES-256-GCM(key, nonce = u64 BE i ‖ u32 BE final, plaintext_i) ‖ 16-byte tag
 *
 * Every chunk but the last contains exactly 64 KiB of plaintext. The last one contains 0 to
 * 64 KiB and has `final = 1`. Binding the index and the final flag into the nonce means chunks cannot
 * be reordered, dropped or cut off at a chunk boundary without a tag failure. This is the
 * STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár (CRYPTO 2015).
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { open, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { CloisterError } from "../../common/errors.ts";
import { readFileRange } from "../file-chunks.ts";

/** Plaintext bytes per chunk. */
export const stagedChunkSize = 64 * 1024;
const tagSize = 16;
const sealedChunkSize = stagedChunkSize + tagSize;
export const stagedKeySize = 32;
/** Chunks read or written per system call, so a 1 GiB file needs about 1000 of them. */
const ioBlockChunks = 16;

function chunkNonce(index: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 0);
  nonce.writeUInt32BE(final ? 1 : 0, 8);
  return nonce;
}

function stagedIntegrityError(cause?: unknown): CloisterError {
  return new CloisterError("INTEGRITY", "staged file failed its integrity check", { cause });
}

/** Writes a new staged file; `close` must be called for the file to be readable. */
export class StagedFileWriter {
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #key: Uint8Array;
  readonly #buffer = Buffer.alloc(stagedChunkSize);
  #buffered = 0;
  #index = 0;
  #position = 0;
  #size = 0;
  #closed = false;
  #inflight: Promise<void> = Promise.resolve();
  /** Sealed chunks waiting to be written in one system call. */
  #sealed: Buffer[] = [];
  #sealedBytes = 0;

  private constructor(handle: FileHandle, path: string, key: Uint8Array) {
    this.#handle = handle;
    this.#path = path;
    this.#key = key;
  }

  /** Creates the file at `path`, which must not exist, encrypted under a 32-byte `key`. */
  static async create(path: string, key: Uint8Array): Promise<StagedFileWriter> {
    return new StagedFileWriter(await open(path, "wx"), path, key);
  }

  /** Number of plaintext bytes written so far. */
  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      // A full buffer is sealed only once more data arrives, so the final chunk is never empty
      // unless the whole file is.
      if (this.#buffered === stagedChunkSize) await this.#seal(false);
      if (this.#buffered === 0 && data.length - offset > stagedChunkSize) {
        // More data follows this whole chunk, so it is not the final one and is sealed in place.
        await this.#seal(false, data.subarray(offset, offset + stagedChunkSize));
        this.#size += stagedChunkSize;
        offset += stagedChunkSize;
        continue;
      }
      const copied = Math.min(stagedChunkSize - this.#buffered, data.length - offset);
      this.#buffer.set(data.subarray(offset, offset + copied), this.#buffered);
      this.#buffered += copied;
      this.#size += copied;
      offset += copied;
    }
  }

  /** Seals the final chunk and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#seal(true);
      await this.#inflight;
    } finally {
      await this.#handle.close();
    }
  }

  /** Closes and removes the partly written file. */
  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#inflight.catch(() => undefined);
      await this.#handle.close().catch(() => undefined);
    }
    await rm(this.#path, { force: true });
  }

  /** Seals `plaintext`, by default the buffered bytes, as the next chunk. */
  async #seal(
    final: boolean,
    plaintext: Uint8Array = this.#buffer.subarray(0, this.#buffered),
  ): Promise<void> {
    const cipher = createCipheriv("aes-256-gcm", this.#key, chunkNonce(this.#index, final));
    // GCM is a stream mode: `update` returns every byte and `final` only computes the tag.
    this.#sealed.push(cipher.update(plaintext));
    cipher.final();
    this.#sealed.push(cipher.getAuthTag());
    this.#sealedBytes += plaintext.length + tagSize;
    this.#index++;
    this.#buffered = 0;
    if (final || this.#sealedBytes >= ioBlockChunks * sealedChunkSize) await this.#flush();
  }

  /** Starts writing the sealed chunks and waits for the previous write, so one is in flight. */
  async #flush(): Promise<void> {
    const previous = this.#inflight;
    this.#inflight = this.#handle.writev(this.#sealed, this.#position).then(() => undefined);
    this.#inflight.catch(() => undefined);
    this.#position += this.#sealedBytes;
    this.#sealed = [];
    this.#sealedBytes = 0;
    await previous;
  }
}

/** Number of plaintext bytes in a staged file of `length` bytes, or -1 when no length fits. */
function plaintextSize(length: number): number {
  if (length < tagSize) return -1;
  const chunks = Math.max(1, Math.ceil(length / sealedChunkSize));
  const last = length - (chunks - 1) * sealedChunkSize;
  if (last < tagSize) return -1;
  return length - chunks * tagSize;
}

/** Returns the plaintext size of the staged file at `path`, raising INTEGRITY for a bad length. */
export async function stagedFileSize(path: string): Promise<number> {
  const size = plaintextSize((await stat(path)).size);
  if (size < 0) throw stagedIntegrityError();
  return size;
}

/**
 * Streams the plaintext of a staged file. Each chunk of at most 64 KiB is verified before it
 * is returned; a failure raises CloisterError INTEGRITY.
 */
export async function* readStagedFile(path: string, key: Uint8Array): AsyncGenerator<Buffer> {
  const handle = await open(path, "r");
  try {
    const length = (await handle.stat()).size;
    const size = plaintextSize(length);
    if (size < 0) throw stagedIntegrityError();
    const chunks = Math.max(1, Math.ceil(length / sealedChunkSize));
    // Each block contains whole sealed chunks. A block is decrypted before the next is requested,
    // so the reader can reuse its buffers.
    const blocks = readFileRange(handle, 0, length, {
      chunkSize: ioBlockChunks * sealedChunkSize,
      reuseBuffers: true,
    });
    let index = 0;
    let position = 0;
    for await (const block of blocks) {
      position += block.length;
      if (block.length % sealedChunkSize !== 0 && position !== length) break;
      for (let offset = 0; offset < block.length; offset += sealedChunkSize) {
        const sealed = block.subarray(offset, offset + sealedChunkSize);
        const plaintext = openChunk(key, index, index === chunks - 1, sealed);
        index++;
        if (plaintext.length > 0) yield plaintext;
      }
    }
    // A file that shrank while being read ends the blocks early.
    if (position !== length) throw stagedIntegrityError();
  } finally {
    await handle.close();
  }
}

function openChunk(key: Uint8Array, index: number, final: boolean, sealed: Buffer): Buffer {
  const ciphertextLength = sealed.length - tagSize;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, chunkNonce(index, final));
    decipher.setAuthTag(sealed.subarray(ciphertextLength));
    const plaintext = decipher.update(sealed.subarray(0, ciphertextLength));
    decipher.final();
    return plaintext;
  } catch (error) {
    throw stagedIntegrityError(error);
  }
}
