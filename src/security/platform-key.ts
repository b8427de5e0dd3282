import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { CloisterError } from "../common/errors.ts";

const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;
const sealedVersion = 1;

/**
 * The platform key: encrypts secrets at rest (JWT signing keys, file keys) so that a copy of
 * the database alone reveals none of them. In a real TEE the key would be sealed to the
 * measurement or released by a key broker after attestation.
 *
 * NOTE: this implementation keeps the key in a file readable only by its owner, which
 * protects against database dumps but not against a host operator who can read the file.
 */
export class PlatformKey {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Loads the key file, or creates it with mode 0600 when it does not exist. */
  static async loadOrCreate(path: string): Promise<PlatformKey> {
    try {
      const info = await stat(path);
      if ((info.mode & 0o077) !== 0) {
        throw new CloisterError(
          "FAILED_PRECONDITION",
          `platform key file ${path} is readable by other users: run chmod 600 ${path}`,
        );
      }
      const key = await readFile(path);
      if (key.length !== keyBytes) {
        throw new CloisterError(
          "FAILED_PRECONDITION",
          `platform key file ${path} has ${key.length} bytes, expected ${keyBytes}`,
        );
      }
      return new PlatformKey(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(keyBytes);
    const handle = await open(path, "wx", 0o600);
    try {
      await handle.writeFile(key);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(path, 0o600);
    return new PlatformKey(key);
  }

  /** Creates a key that lives only in memory, for tests and local runs. */
  static ephemeral(): PlatformKey {
    return new PlatformKey(randomBytes(keyBytes));
  }

  /**
   * Encrypts `plaintext` with AES-256-GCM. `context` is bound as associated data, so a
   * sealed value cannot be moved to another record or field.
   */
  seal(plaintext: Uint8Array, context: string): Buffer {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(sealedVersion), iv, cipher.getAuthTag(), body]);
  }

  /** Decrypts a value made by `seal` with the same context. */
  unseal(sealed: Uint8Array, context: string): Buffer {
    const data = Buffer.from(sealed);
    if (data.length < 1 + ivBytes + tagBytes || data[0] !== sealedVersion) {
      throw new CloisterError("INTEGRITY", "sealed value is malformed");
    }
    const iv = data.subarray(1, 1 + ivBytes);
    const tag = data.subarray(1 + ivBytes, 1 + ivBytes + tagBytes);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, iv);
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(data.subarray(1 + ivBytes + tagBytes)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new CloisterError("INTEGRITY", "sealed value failed its integrity check", {
        cause: error,
      });
    }
  }
}
