import { createPrivateKey, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireString } from "./arguments.ts";

/**
 * `builtin-rsa-sign`: signs the UTF-8 bytes of the `data` argument with RSASSA-PKCS1-v1_5 and
 * SHA-256, using the PKCS#1 `RSAPrivateKey` DER in input `rsa_key`. Returns the signature in
 * base64. The signature is deterministic, so it matches Teaclave's byte for byte.
 */
export const rsaSign: BuiltinFunction = {
  name: "builtin-rsa-sign",
  async run(args, runtime) {
    const data = requireString(args, "data");
    const der = await (await runtime.openInput("rsa_key")).readAll();
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: der, format: "der", type: "pkcs1" });
    } catch (error) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `input "rsa_key" is not an RSA private key in PKCS#1 DER form`,
        { cause: error },
      );
    }
    return sign("sha256", Buffer.from(data, "utf8"), key).toString("base64");
  },
};
