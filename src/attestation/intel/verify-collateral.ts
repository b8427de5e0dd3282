// Steps 6 and 7 of DCAP quote verification (see verify-quote.ts): revocation and the
// authenticity of TCB info and QE identity.
import { type X509Certificate, verify as verifySignature } from "node:crypto";
import { orderChainLeafFirst, verifyCertificateChain } from "../certificate-chain.ts";
import { checkNotRevoked, parseCrl, verifyCrl, type Crl } from "../crl.ts";
import { EvidenceRejection } from "../verdict.ts";
import type { SignedCollateral } from "./collateral.ts";

/** A validity interval in epoch milliseconds. */
export interface Window {
  notBefore: number;
  notAfter: number;
}

/** Narrows `window` to its intersection with `other`. */
export function narrowWindow(window: Window, other: Window): void {
  window.notBefore = Math.max(window.notBefore, other.notBefore);
  window.notAfter = Math.min(window.notAfter, other.notAfter);
}

/** Step 6: the Root CA CRL, checked against the PCK intermediate. Returns it when present. */
export function verifyRootCaCrl(
  input: Uint8Array | string | undefined,
  root: X509Certificate,
  nowMs: number,
  window: Window,
): Crl | undefined {
  if (input === undefined) return undefined;
  const crl = parseCrl(input, "Root CA CRL");
  narrowWindow(window, verifyCrl(crl, root, nowMs, "Root CA CRL"));
  return crl;
}

/** Step 6: the PCK CRL must be signed by the PCK leaf's issuer and must not list the leaf. */
export function verifyPckCrl(
  input: Uint8Array | string,
  leaf: X509Certificate,
  intermediate: X509Certificate,
  nowMs: number,
  window: Window,
): void {
  const crl = parseCrl(input, "PCK CRL");
  narrowWindow(window, verifyCrl(crl, intermediate, nowMs, "PCK CRL"));
  checkNotRevoked(crl, leaf, "PCK CRL");
}

/**
 * Step 7: the issuer chain reaches a pinned root and is not revoked, the signature covers the
 * exact bytes of `collateral.body`, and the body is current (checked by the caller, which
 * parses it).
 */
export function verifySignedCollateral(
  collateral: SignedCollateral,
  label: string,
  trustedRootKeys: ReadonlySet<string>,
  rootCaCrl: Crl | undefined,
  nowMs: number,
  window: Window,
): void {
  const chain = orderChainLeafFirst(collateral.issuerChain);
  // Only Intel's TCB Signing key, certified directly by the root, may sign collateral. Any
  // longer chain would let a PCK key (held by a platform) sign TCB info of its own.
  if (chain.length !== 2 || !hasCommonName(chain[0]!, TCB_SIGNING_COMMON_NAME)) {
    throw new EvidenceRejection(
      "CERT_CHAIN_INVALID",
      `${label} issuer chain is not Intel SGX TCB Signing then the root`,
    );
  }
  narrowWindow(
    window,
    verifyCertificateChain({ chain, trustedRootKeys, nowMs, label: `${label} issuer chain` }),
  );
  if (rootCaCrl) {
    for (const certificate of chain.slice(0, -1)) {
      checkNotRevoked(rootCaCrl, certificate, "Root CA CRL");
    }
  }
  if (!signatureVerifies(collateral, chain[0]!)) {
    throw new EvidenceRejection(
      "COLLATERAL_SIGNATURE_INVALID",
      `${label} signature does not verify`,
    );
  }
}

const TCB_SIGNING_COMMON_NAME = "Intel SGX TCB Signing";

/** Tells whether the subject of `certificate` has exactly the common name `name`. */
export function hasCommonName(certificate: X509Certificate, name: string): boolean {
  return certificate.subject.split("\n").some((attribute) => attribute === `CN=${name}`);
}

// SignedCollateral is immutable, so a verified signature is remembered per object and signer.
const verifiedSignatures = new WeakMap<SignedCollateral, WeakSet<X509Certificate>>();

function signatureVerifies(collateral: SignedCollateral, signer: X509Certificate): boolean {
  if (verifiedSignatures.get(collateral)?.has(signer)) return true;
  const signature = collateral.signature;
  const valid = verifySignature(
    "sha256",
    Buffer.from(collateral.body, "utf8"),
    { key: signer.publicKey, dsaEncoding: signature.length === 64 ? "ieee-p1363" : "der" },
    signature,
  );
  if (valid) {
    const signers = verifiedSignatures.get(collateral) ?? new WeakSet<X509Certificate>();
    signers.add(signer);
    verifiedSignatures.set(collateral, signers);
  }
  return valid;
}

/** Checks issueDate ≤ now ≤ nextUpdate of TCB info or QE identity. */
export function checkCollateralDates(
  issueDateMs: number,
  nextUpdateMs: number,
  nowMs: number,
  label: string,
  window: Window,
): void {
  if (nowMs < issueDateMs || nowMs > nextUpdateMs) {
    throw new EvidenceRejection(
      "COLLATERAL_EXPIRED",
      `${label} is valid only from ${new Date(issueDateMs).toISOString()} to ${new Date(nextUpdateMs).toISOString()}`,
    );
  }
  narrowWindow(window, { notBefore: issueDateMs, notAfter: nextUpdateMs });
}
