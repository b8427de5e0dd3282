import { type KeyObject, createHash } from "node:crypto";
import type { EvidenceKind } from "../evidence.ts";

/**
 * Computes the report data that binds a TLS public key to evidence:
 * - SGX quotes and simulated evidence carry the raw P-256 point x‖y (64 bytes), as Teaclave's
 *   services put it in `report_data`;
 * - TDX quotes and SEV-SNP reports carry SHA-512 of the DER SubjectPublicKeyInfo, which fits
 *   their 64-byte report data for any key type.
 */
export function bindingReportData(kind: EvidenceKind, publicKey: KeyObject): Uint8Array {
  if (kind === "tdx-dcap-quote" || kind === "sev-snp-report") {
    const spki = publicKey.export({ type: "spki", format: "der" });
    return new Uint8Array(createHash("sha512").update(spki).digest());
  }
  return rawP256Point(publicKey);
}

/** Returns the uncompressed P-256 point x‖y of `publicKey`, without the 0x04 prefix. */
export function rawP256Point(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.x || !jwk.y) {
    throw new TypeError("the TLS key is not an ECDSA P-256 key");
  }
  return new Uint8Array(
    Buffer.concat([Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]),
  );
}
