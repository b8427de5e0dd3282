import { createDecipheriv } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireString } from "./arguments.ts";

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const algorithms = { aes128gcm: "aes-128-gcm", aes256gcm: "aes-256-gcm" } as const;
const keyBytes = { aes128gcm: 16, aes256gcm: 32 } as const;
const nonceBytes = 12;
const tagBytes = 16;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes standard padded base64, rejecting anything Node's lenient decoder would accept. */
function requireBase64(args: Readonly<Record<string, unknown>>, name: string): Buffer {
  const text = requireString(args, name);
  if (!base64Pattern.test(text)) {
    throw new CloisterError("INVALID_ARGUMENT", `argument "${name}" is not valid base64`);
  }
  return Buffer.from(text, "base64");
}

/**
 * `builtin_online_decrypt` (underscores, as in Teaclave): AES-GCM decryption of
 * `encrypted_data` (ciphertext followed by the 16-byte tag) with an empty AAD, unlike the file
 * formats. Only the first 12 bytes of `nonce` are used. Returns the plaintext as UTF-8 text.
 */
export const onlineDecrypt: BuiltinFunction = {
  name: "builtin_online_decrypt",
  async run(args) {
    const algorithm = requireString(args, "algorithm");
    if (algorithm !== "aes128gcm" && algorithm !== "aes256gcm") {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "algorithm" must be "aes128gcm" or "aes256gcm", got ${JSON.stringify(algorithm)}`,
      );
    }
    const key = requireBase64(args, "key");
    const nonce = requireBase64(args, "nonce");
    const data = requireBase64(args, "encrypted_data");
    if (key.length !== keyBytes[algorithm]) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "key" must decode to ${keyBytes[algorithm]} bytes for ${algorithm}`,
      );
    }
    if (nonce.length < nonceBytes) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "nonce" must decode to at least ${nonceBytes} bytes`,
      );
    }

    let plaintext: Buffer;
    try {
      if (data.length < tagBytes) throw new Error("encrypted data is shorter than the tag");
      const decipher = createDecipheriv(algorithms[algorithm], key, nonce.subarray(0, nonceBytes));
      decipher.setAuthTag(data.subarray(data.length - tagBytes));
      plaintext = Buffer.concat([
        decipher.update(data.subarray(0, data.length - tagBytes)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new CloisterError("INTEGRITY", "decryption failed", { cause: error });
    }
    try {
      return utf8.decode(plaintext);
    } catch (error) {
      throw new CloisterError("INVALID_ARGUMENT", "the decrypted data is not valid UTF-8 text", {
        cause: error,
      });
    }
  },
};
