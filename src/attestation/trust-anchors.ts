import { KeyObject, X509Certificate, createHash } from "node:crypto";
import { CloisterError } from "../common/errors.ts";
import { publicKeyFingerprint } from "./certificate-chain.ts";

/**
 * A pinned root key: a certificate or public key, or the SHA-256 hex of its DER
 * SubjectPublicKeyInfo. Pinning the key instead of the certificate accepts re-issued roots
 * that keep their key, as Intel's SGX Root CA was.
 */
export type TrustAnchor = X509Certificate | KeyObject | string;

/** SHA-256 of the SubjectPublicKeyInfo of the production "Intel SGX Root CA" (both issues). */
export const INTEL_SGX_ROOT_CA_KEY =
  "a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e";

/** SHA-256 of the SubjectPublicKeyInfo of AMD's ARK per product, from AMD KDS `cert_chain`. */
export const AMD_ARK_KEYS: Readonly<Record<"Milan" | "Genoa" | "Turin", string>> = {
  Milan: "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9",
  Genoa: "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831",
  Turin: "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08",
};

/** Converts trust anchors to the set of public key fingerprints that verifiers compare with. */
export function trustAnchorKeys(anchors: readonly TrustAnchor[]): Set<string> {
  const keys = new Set<string>();
  for (const anchor of anchors) {
    if (anchor instanceof X509Certificate) {
      keys.add(publicKeyFingerprint(anchor));
    } else if (anchor instanceof KeyObject) {
      const spki = anchor.export({ type: "spki", format: "der" });
      keys.add(createHash("sha256").update(spki).digest("hex"));
    } else if (/^[0-9a-fA-F]{64}$/.test(anchor)) {
      keys.add(anchor.toLowerCase());
    } else {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        "trust anchor is invalid: pass a certificate, a public key or 64 hex characters",
      );
    }
  }
  return keys;
}
