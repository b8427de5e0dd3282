import { randomBytes } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CloisterError } from "../common/errors.ts";
import { placeLocalFile } from "./agent/local-file-transport.ts";
import { readFileRange } from "./file-chunks.ts";
import type { FileCrypto } from "./file-crypto.ts";
import { fileSchemeFor } from "./schemes/file-scheme.ts";

function alreadyExists(path: string, error: unknown): unknown {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : "";
  if (code !== "EEXIST") return error;
  return new CloisterError(
    "ALREADY_EXISTS",
    `output file already exists: ${path}; remove it or choose another path`,
  );
}

/**
 * Streams a plaintext file through a few reused buffers. Every scheme's `encrypt` is done with
 * a chunk before it requests the next, so no chunk is overwritten while in use.
 */
async function* readPlaintext(path: string): AsyncGenerator<Buffer> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    yield* readFileRange(handle, 0, size, { reuseBuffers: true });
  } finally {
    await handle.close();
  }
}

/** Writes every chunk of `source` to a new file, one write in flight while the next decrypts. */
async function writePlaintext(source: AsyncIterable<Buffer>, path: string): Promise<void> {
  const handle = await open(path, "wx");
  let inflight: Promise<unknown> = Promise.resolve();
  try {
    // Each decrypted chunk is a fresh Buffer, so it stays intact while its write runs.
    for await (const chunk of source) {
      await inflight;
      inflight = handle.write(chunk);
      // A failed write raises at the next await, not as an unhandled rejection meanwhile.
      inflight.catch(() => undefined);
    }
    await inflight;
  } finally {
    await inflight.catch(() => undefined);
    await handle.close();
  }
}

function requireKey(crypto: FileCrypto, action: string): void {
  if (crypto.schema === "raw") {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid file crypto schema raw: cannot ${action} with it; ` +
        "use aes-gcm-128, aes-gcm-256 or teaclave-file-128",
    );
  }
}

/**
 * Encrypts the plaintext file `input` into the new file `output`, which must not exist, and
 * returns the 16-byte tag to register as the file's cmac. A teaclave-file-128 file is named
 * after the basename of `output`, so it must be uploaded under that name.
 */
export async function encryptFile(
  input: string,
  output: string,
  crypto: FileCrypto,
): Promise<Uint8Array> {
  requireKey(crypto, "encrypt");
  try {
    const plaintext = readPlaintext(input);
    const tag = await fileSchemeFor(crypto).encrypt(plaintext, output, basename(output));
    return new Uint8Array(tag);
  } catch (error) {
    throw alreadyExists(output, error);
  }
}

/**
 * Decrypts the file `input` into the new file `output`, which must not exist, and returns
 * the file's 16-byte tag (its cmac). The plaintext goes to a temporary file beside `output`
 * and is moved into place only after every tag has verified, so a file that fails its
 * integrity check (CloisterError INTEGRITY) leaves nothing behind. A teaclave-file-128 file
 * must have been encrypted under the basename of `input`.
 */
export async function decryptFile(
  input: string,
  output: string,
  crypto: FileCrypto,
): Promise<Uint8Array> {
  requireKey(crypto, "decrypt");
  const scheme = fileSchemeFor(crypto);
  const temporary = join(
    dirname(output),
    `.${basename(output)}.${randomBytes(6).toString("hex")}.partial`,
  );
  try {
    await writePlaintext(scheme.decrypt(input, basename(input)), temporary);
    const tag = await scheme.readTag(input);
    await placeLocalFile(temporary, output);
    return new Uint8Array(tag ?? []);
  } finally {
    await rm(temporary, { force: true });
  }
}
