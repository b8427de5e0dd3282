import { X509Certificate } from "node:crypto";
import { verifySnpReport, type SnpCollateral } from "./amd/verify-snp-report.ts";
import type { Evidence } from "./evidence.ts";
import type { IntelCollateral } from "./intel/collateral.ts";
import { verifyDcapQuote } from "./intel/verify-quote.ts";
import type { VerificationPolicy } from "./policy.ts";
import { verifySimulatedReport } from "./simulation/simulated-report.ts";
import type { TrustAnchor } from "./trust-anchors.ts";
import type { Verdict } from "./verdict.ts";

/** Inputs of verifyEvidence. Nothing is fetched: all collateral comes from the caller. */
export interface VerifyEvidenceOptions {
  /** The verification time. */
  readonly now: Date;
  readonly policy?: VerificationPolicy;
  /** TCB info, QE identity and CRLs for SGX and TDX quotes. */
  readonly intelCollateral?: IntelCollateral;
  /** VCEK or VLEK chain for SEV-SNP reports; defaults to the evidence's own certificates. */
  readonly snpCollateral?: SnpCollateral;
  readonly trustAnchors?: {
    /** Intel SGX Root CA keys. Default: the production root. */
    readonly intel?: readonly TrustAnchor[];
    /** AMD ARK keys. Default: the Milan, Genoa and Turin ARKs. */
    readonly amd?: readonly TrustAnchor[];
    /** Simulation attestation keys. Simulated evidence is rejected without one. */
    readonly simulation?: readonly TrustAnchor[];
  };
}

function snpCollateralOf(evidence: Evidence): SnpCollateral | undefined {
  const certificates = evidence.certificates;
  const vek = certificates?.vcek ?? certificates?.vlek;
  if (!vek || !certificates?.ask || !certificates.ark) return undefined;
  return {
    vek: new X509Certificate(vek),
    chain: [new X509Certificate(certificates.ask), new X509Certificate(certificates.ark)],
  };
}

/** Verifies evidence of any supported kind at `options.now` and applies the policy. */
export function verifyEvidence(evidence: Evidence, options: VerifyEvidenceOptions): Verdict {
  const { now, policy } = options;
  const common = { now, ...(policy ? { policy } : {}) };
  switch (evidence.kind) {
    case "sgx-dcap-quote":
    case "tdx-dcap-quote": {
      const verdict = verifyDcapQuote(evidence.data, {
        ...common,
        ...(options.intelCollateral ? { collateral: options.intelCollateral } : {}),
        ...(options.trustAnchors?.intel ? { trustAnchors: options.trustAnchors.intel } : {}),
      });
      const expectedTee = evidence.kind === "sgx-dcap-quote" ? "sgx" : "tdx";
      if (verdict.tee === expectedTee) return verdict;
      const detail = `evidence of kind ${evidence.kind} holds a ${verdict.tee.toUpperCase()} quote`;
      return {
        ...verdict,
        accepted: false,
        rejection: { code: "UNSUPPORTED_EVIDENCE", detail },
      };
    }
    case "sev-snp-report": {
      const collateral = options.snpCollateral ?? snpCollateralOf(evidence);
      return verifySnpReport(evidence.data, {
        ...common,
        ...(collateral ? { collateral } : {}),
        ...(options.trustAnchors?.amd ? { trustAnchors: options.trustAnchors.amd } : {}),
      });
    }
    case "simulation":
      return verifySimulatedReport(evidence.data, {
        ...common,
        trustAnchors: options.trustAnchors?.simulation ?? [],
      });
  }
}
