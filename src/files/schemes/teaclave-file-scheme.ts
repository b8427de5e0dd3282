import { readProtectedFile, readProtectedFileTag } from "../protected-fs/protected-file-reader.ts";
import { ProtectedFileWriter } from "../protected-fs/protected-file-writer.ts";
import type { FileScheme } from "./file-scheme.ts";

/**
 * Creates the `teaclave-file-128` scheme: Intel SGX Protected FS with a 16-byte user key. The
 * cmac is the metadata GMAC at bytes 80..96.
 */
export function createTeaclaveFileScheme(userKey: Uint8Array): FileScheme {
  return {
    readTag: readProtectedFileTag,

    decrypt(path, fileName) {
      return readProtectedFile(path, userKey, fileName);
    },

    async encrypt(source, path, fileName) {
      const writer = await ProtectedFileWriter.create(path, userKey, fileName);
      try {
        for await (const chunk of source) await writer.write(chunk);
      } catch (error) {
        await writer.abort();
        throw error;
      }
      return writer.finish();
    },
  };
}
