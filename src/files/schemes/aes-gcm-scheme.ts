import { createCipheriv, createDecipheriv } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { CloisterError } from "../../common/errors.ts";
import { readFileRange } from "../file-chunks.ts";
import type { FileScheme } from "./file-scheme.ts";

const tagSize = 16;
/** Ciphertext gathered before one write system call. */
const writeBatchBytes = 1024 * 1024;
/** Teaclave authenticates 8 zero bytes as AAD in both AES-GCM schemas. */
const additionalData = Buffer.alloc(8);

function aesGcmIntegrityError(cause?: unknown): CloisterError {
  return new CloisterError("INTEGRITY", "AES-GCM file failed its integrity check", { cause });
}

/**
 * Creates the `aes-gcm-128` or `aes-gcm-256` scheme. The whole file is AES-GCM(plaintext)
 * under the registered key and IV, followed by the 16-byte tag, which is the cmac.
 */
export function createAesGcmScheme(crypto: {
  readonly schema: "aes-gcm-128" | "aes-gcm-256";
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}): FileScheme {
  const algorithm = crypto.schema === "aes-gcm-128" ? "aes-128-gcm" : "aes-256-gcm";

  return {
    async readTag(path) {
      const handle = await open(path, "r");
      try {
        const { size } = await handle.stat();
        if (size < tagSize) throw aesGcmIntegrityError();
        const tag = Buffer.alloc(tagSize);
        await handle.read(tag, 0, tagSize, size - tagSize);
        return tag;
      } finally {
        await handle.close();
      }
    },

    async *decrypt(path) {
      const handle = await open(path, "r");
      try {
        const { size } = await handle.stat();
        if (size < tagSize) throw aesGcmIntegrityError();
        const tag = Buffer.alloc(tagSize);
        await handle.read(tag, 0, tagSize, size - tagSize);
        const decipher = createDecipheriv(algorithm, crypto.key, crypto.iv);
        decipher.setAAD(additionalData);
        decipher.setAuthTag(tag);
        for await (const chunk of readFileRange(handle, 0, size - tagSize, {
          reuseBuffers: true,
        })) {
          yield decipher.update(chunk);
        }
        try {
          decipher.final();
        } catch (error) {
          throw aesGcmIntegrityError(error);
        }
      } finally {
        await handle.close();
      }
    },

    async encrypt(source, path) {
      const handle = await open(path, "wx");
      // Ciphertext goes to disk in batches, one write in flight while the next is encrypted.
      let inflight: Promise<unknown> = Promise.resolve();
      try {
        const cipher = createCipheriv(algorithm, crypto.key, crypto.iv);
        cipher.setAAD(additionalData);
        let gathered: Buffer[] = [];
        let gatheredBytes = 0;
        const flush = async () => {
          await inflight;
          inflight = handle.writev(gathered);
          // A failed write raises at the next await, not as an unhandled rejection meanwhile.
          inflight.catch(() => undefined);
          gathered = [];
          gatheredBytes = 0;
        };
        for await (const chunk of source) {
          const ciphertext = cipher.update(chunk);
          gathered.push(ciphertext);
          gatheredBytes += ciphertext.length;
          if (gatheredBytes >= writeBatchBytes) await flush();
        }
        await flush();
        await inflight;
        cipher.final();
        const tag = cipher.getAuthTag();
        await handle.write(tag);
        await handle.close();
        return tag;
      } catch (error) {
        await inflight.catch(() => undefined);
        await handle.close().catch(() => undefined);
        await rm(path, { force: true });
        throw error;
      }
    },
  };
}
