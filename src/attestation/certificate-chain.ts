import { X509Certificate, createHash } from "node:crypto";
import { EvidenceRejection } from "./verdict.ts";

/** Parses every PEM certificate block in `text`, in order. */
export function parsePemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((block) => new X509Certificate(block));
}

/** Certificates from PEM blocks or from concatenated DER (Intel's TDX sample uses the latter). */
export function parseCertificateList(data: Uint8Array): X509Certificate[] {
  const text = Buffer.from(data).toString("latin1");
  if (text.includes("-----BEGIN CERTIFICATE-----")) return parsePemCertificates(text);
  const certificates: X509Certificate[] = [];
  let offset = 0;
  while (offset < data.length && data[offset] === 0x30) {
    // The DER length of a certificate is at most 3 bytes long here, so read it directly.
    const lengthByte = data[offset + 1]!;
    let length = lengthByte;
    let header = 2;
    if (lengthByte & 0x80) {
      const count = lengthByte & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + data[offset + 2 + i]!;
      header += count;
    }
    certificates.push(new X509Certificate(data.subarray(offset, offset + header + length)));
    offset += header + length;
  }
  return certificates;
}

/**
 * Orders a chain leaf first: the leaf is the one certificate that issued no other. Returns the
 * certificates in input order (without duplicates) when they are not a simple chain, so the
 * signature checks reject them.
 */
export function orderChainLeafFirst(input: readonly X509Certificate[]): X509Certificate[] {
  // A certificate listed twice (a root appended to a chain that has it) counts once.
  const certificates = input.filter(
    (certificate, index) => input.findIndex((other) => other.raw.equals(certificate.raw)) === index,
  );
  const isIssuerOfAnother = (candidate: X509Certificate): boolean =>
    certificates.some((other) => other !== candidate && other.checkIssued(candidate));
  const leaves = certificates.filter((certificate) => !isIssuerOfAnother(certificate));
  if (leaves.length !== 1) return [...certificates];
  const ordered = [leaves[0]!];
  while (ordered.length < certificates.length) {
    const current = ordered[ordered.length - 1]!;
    if (current.checkIssued(current)) break;
    const issuer = certificates.find((c) => !ordered.includes(c) && current.checkIssued(c));
    if (!issuer) break;
    ordered.push(issuer);
  }
  return ordered.length === certificates.length ? ordered : [...certificates];
}

// X509Certificate objects are immutable, so results computed from them are cached per object.
// Collateral certificates are reused across quotes, and each cache hit saves a signature check.
const fingerprints = new WeakMap<X509Certificate, string>();
const verifiedIssuers = new WeakMap<X509Certificate, WeakSet<X509Certificate>>();

/** Returns SHA-256 of a certificate's SubjectPublicKeyInfo, as lower-case hex. */
export function publicKeyFingerprint(certificate: X509Certificate): string {
  let fingerprint = fingerprints.get(certificate);
  if (fingerprint === undefined) {
    const spki = certificate.publicKey.export({ type: "spki", format: "der" });
    fingerprint = createHash("sha256").update(spki).digest("hex");
    fingerprints.set(certificate, fingerprint);
  }
  return fingerprint;
}

/** Tells whether `issuer` issued and signed `certificate` (names and signature). */
function isIssuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  if (verifiedIssuers.get(certificate)?.has(issuer)) return true;
  if (!certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey)) return false;
  const issuers = verifiedIssuers.get(certificate) ?? new WeakSet<X509Certificate>();
  issuers.add(issuer);
  verifiedIssuers.set(certificate, issuers);
  return true;
}

/** Parses a certificate's notBefore and notAfter to epoch milliseconds. */
export function validityOf(certificate: X509Certificate): { notBefore: number; notAfter: number } {
  return {
    notBefore: Date.parse(certificate.validFrom),
    notAfter: Date.parse(certificate.validTo),
  };
}

/** Options of verifyCertificateChain. */
export interface ChainCheck {
  /** Certificates leaf first, ending at a self-signed root. */
  readonly chain: readonly X509Certificate[];
  /** SHA-256 fingerprints of the accepted root public keys (SPKI DER). */
  readonly trustedRootKeys: ReadonlySet<string>;
  readonly nowMs: number;
  /** Name of the chain in rejection details, for example "PCK chain". */
  readonly label: string;
}

/**
 * Verifies a certificate chain: each certificate is signed by the next, every certificate but
 * the leaf is a CA, every one is valid at `nowMs`, and the last is a self-signed root whose
 * public key is pinned. Returns the window in which the whole chain is valid.
 */
export function verifyCertificateChain(check: ChainCheck): { notBefore: number; notAfter: number } {
  const { chain, label, nowMs } = check;
  if (chain.length < 2) {
    throw new EvidenceRejection("CERT_CHAIN_INVALID", `${label} has fewer than 2 certificates`);
  }
  let notBefore = -Infinity;
  let notAfter = Infinity;
  for (let i = 0; i < chain.length; i++) {
    const certificate = chain[i]!;
    const issuer = chain[i + 1] ?? certificate;
    if (i > 0 && !certificate.ca) {
      throw new EvidenceRejection("CERT_CHAIN_INVALID", `${label}: certificate ${i} is not a CA`);
    }
    if (!isIssuedBy(certificate, issuer)) {
      throw new EvidenceRejection(
        "CERT_CHAIN_INVALID",
        `${label}: signature of certificate ${i} (${certificate.subject.replace(/\n/g, ", ")}) does not verify`,
      );
    }
    const validity = validityOf(certificate);
    if (nowMs < validity.notBefore || nowMs > validity.notAfter) {
      throw new EvidenceRejection(
        "CERT_EXPIRED",
        `${label}: certificate ${i} is valid only from ${certificate.validFrom} to ${certificate.validTo}`,
      );
    }
    notBefore = Math.max(notBefore, validity.notBefore);
    notAfter = Math.min(notAfter, validity.notAfter);
  }
  const root = chain[chain.length - 1]!;
  if (!check.trustedRootKeys.has(publicKeyFingerprint(root))) {
    throw new EvidenceRejection(
      "UNTRUSTED_ROOT",
      `${label}: root public key is not a trust anchor`,
    );
  }
  return { notBefore, notAfter };
}
