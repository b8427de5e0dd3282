import { X509Certificate } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import type { Verdict } from "../verdict.ts";
import {
  DEFAULT_MAX_EVIDENCE_AGE_MS,
  certificateFingerprint,
  verifyAttestedCertificate,
  type VerifyAttestedCertificateOptions,
} from "./verify-attested-certificate.ts";

export interface VerifierCacheOptions {
  /** How long an accepted verdict is reused. Default 60 000 ms. */
  readonly ttlMs?: number;
  /** Maximum cached certificates; the least recently used is dropped. Default 256. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly verdict: Verdict;
  readonly verifiedAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * Verifies peers' attested certificates once per connection and reuses accepted verdicts for
 * the same certificate bytes. An entry expires after `ttlMs`, at the certificate's notAfter,
 * at the end of the collateral window and when the evidence exceeds its maximum age, whichever
 * comes first. Rejections are never cached.
 */
export class AttestedCertificateVerifier {
  private readonly options: Omit<VerifyAttestedCertificateOptions, "now">;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, Entry>();

  constructor(
    options: Omit<VerifyAttestedCertificateOptions, "now">,
    cache: VerifierCacheOptions = {},
  ) {
    this.options = options;
    this.ttlMs = cache.ttlMs ?? 60_000;
    this.maxEntries = cache.maxEntries ?? 256;
    if (!(this.ttlMs >= 0) || !(this.maxEntries >= 1)) {
      throw new CloisterError("INVALID_ARGUMENT", "ttlMs must be ≥ 0 and maxEntries ≥ 1");
    }
  }

  /** Returns the peer's verdict at `now`, or throws PERMISSION_DENIED like verifyAttestedCertificate. */
  verify(certificate: X509Certificate | Uint8Array, now: Date): Verdict {
    const key = certificateFingerprint(certificate);
    const nowMs = now.getTime();
    const cached = this.cache.get(key);
    if (cached && nowMs >= cached.verifiedAtMs && nowMs <= cached.expiresAtMs) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached.verdict;
    }
    this.cache.delete(key);
    const verdict = verifyAttestedCertificate(certificate, { ...this.options, now });
    this.remember(key, certificate, verdict, nowMs);
    return verdict;
  }

  private remember(
    key: string,
    certificate: X509Certificate | Uint8Array,
    verdict: Verdict,
    nowMs: number,
  ): void {
    const parsed =
      certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
    const bounds = [nowMs + this.ttlMs, Date.parse(parsed.validTo)];
    if (verdict.collateralWindow) bounds.push(Date.parse(verdict.collateralWindow.notAfter));
    const evidenceMs = Date.parse(verdict.evidenceTime ?? parsed.validFrom);
    bounds.push(evidenceMs + (this.options.maxEvidenceAgeMs ?? DEFAULT_MAX_EVIDENCE_AGE_MS));
    this.cache.set(key, { verdict, verifiedAtMs: nowMs, expiresAtMs: Math.min(...bounds) });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}
