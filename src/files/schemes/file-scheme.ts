import type { FileCrypto } from "../file-crypto.ts";
import { createAesGcmScheme } from "./aes-gcm-scheme.ts";
import { rawScheme } from "./raw-scheme.ts";
import { createTeaclaveFileScheme } from "./teaclave-file-scheme.ts";

/**
 * One file encryption scheme bound to its key material. Every method streams, so memory does
 * not grow with the file size.
 */
export interface FileScheme {
  /** The tag that registration stores as the file's cmac, or undefined for raw files. */
  readTag(path: string): Promise<Buffer | undefined>;
  /**
   * Streams the plaintext of the file at `path`, raising CloisterError INTEGRITY on any tag
   * failure. The bytes are authentic only once the iteration has finished without an error,
   * because an AES-GCM file has a single tag at its end. `fileName` is the name the file was
   * encrypted under, checked by teaclave-file-128.
   */
  decrypt(path: string, fileName: string): AsyncIterable<Buffer>;
  /**
   * Encrypts `source` into a new file at `path`, which must not exist, and returns its tag.
   * On failure the partial file is removed. Each chunk of `source` is fully consumed before
   * the next is requested, so a source may reuse its buffers.
   */
  encrypt(source: AsyncIterable<Uint8Array>, path: string, fileName: string): Promise<Buffer>;
}

/** Returns the scheme for a validated FileCrypto. */
export function fileSchemeFor(crypto: FileCrypto): FileScheme {
  switch (crypto.schema) {
    case "raw":
      return rawScheme;
    case "aes-gcm-128":
    case "aes-gcm-256":
      return createAesGcmScheme(crypto);
    case "teaclave-file-128":
      return createTeaclaveFileScheme(crypto.key);
  }
}
