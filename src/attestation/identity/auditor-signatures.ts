// Auditor signatures over enclave_info.toml: RSA PKCS#1 v1.5 with SHA-256 over the exact file
// bytes, as `openssl dgst -sha256 -sign <key>` writes them. Unlike Teaclave 0.6, which accepted
// one key for every signature and had no threshold, each signature must come from a distinct
// key and at least `threshold` distinct keys must have signed.
import {
  type KeyObject,
  createHash,
  createPublicKey,
  verify as verifySignature,
} from "node:crypto";
import { CloisterError } from "../../common/errors.ts";

export interface AuditorSignatureCheck {
  /** The exact bytes of enclave_info.toml. */
  readonly content: Uint8Array;
  /** Auditor public keys: KeyObjects, or PEM (PKCS#1 `RSA PUBLIC KEY` or SPKI `PUBLIC KEY`). */
  readonly publicKeys: readonly (KeyObject | string)[];
  readonly signatures: readonly Uint8Array[];
  /** Minimum number of distinct auditors. Default: every key. */
  readonly threshold?: number;
}

/** Message of every signature failure; the detail is in `cause`. */
export const AUDITOR_CHECK_FAILED = "auditor signatures of enclave_info are not valid";

function failure(detail: string): CloisterError {
  return new CloisterError("INTEGRITY", AUDITOR_CHECK_FAILED, { cause: new Error(detail) });
}

/**
 * Verifies the auditor signatures and returns the indexes (into `publicKeys`) of the keys that
 * signed, one per signature. Throws INVALID_ARGUMENT for unusable keys or threshold, and
 * INTEGRITY when a signature is invalid, one key signed twice, or too few keys signed.
 */
export function verifyAuditorSignatures(check: AuditorSignatureCheck): number[] {
  const keys = check.publicKeys.map((key, index) => {
    try {
      const keyObject = typeof key === "string" ? createPublicKey(key) : key;
      if (keyObject.asymmetricKeyType !== "rsa") throw new Error("not an RSA key");
      return keyObject;
    } catch (error) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `auditor public key ${index + 1} is not an RSA public key in PEM`,
        {
          cause: error,
        },
      );
    }
  });
  // The same key listed twice counts once.
  const fingerprints = keys.map((key) =>
    createHash("sha256")
      .update(key.export({ type: "spki", format: "der" }))
      .digest("hex"),
  );
  const distinctKeys = new Set(fingerprints).size;
  const threshold = check.threshold ?? distinctKeys;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > distinctKeys) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `threshold ${threshold} must be between 1 and the number of distinct keys (${distinctKeys})`,
    );
  }
  if (check.signatures.length > keys.length) {
    throw failure(`${check.signatures.length} signatures for ${keys.length} keys`);
  }

  const signers: number[] = [];
  const usedKeys = new Set<string>();
  check.signatures.forEach((signature, signatureIndex) => {
    const signer = keys.findIndex(
      (key, keyIndex) =>
        !usedKeys.has(fingerprints[keyIndex]!) &&
        verifySignature("sha256", check.content, key, signature),
    );
    if (signer === -1) {
      const reused = keys.some((key) => verifySignature("sha256", check.content, key, signature));
      throw failure(
        reused
          ? `signature ${signatureIndex + 1} repeats a key that already signed`
          : `signature ${signatureIndex + 1} verifies under no auditor key`,
      );
    }
    usedKeys.add(fingerprints[signer]!);
    signers.push(signer);
  });
  if (usedKeys.size < threshold) {
    throw failure(`${usedKeys.size} distinct auditors signed, ${threshold} required`);
  }
  return signers;
}
