import { X509Certificate, createHash } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import { bytesEqual, toHex } from "../bytes.ts";
import { validityOf } from "../certificate-chain.ts";
import type { Evidence } from "../evidence.ts";
import { isSgxDebug, sgxMeasurements } from "../intel/measurements.ts";
import { allowedBy, resolvePolicy, verificationTime } from "../policy.ts";
import { encodeSimulatedEvidence } from "../simulation/simulated-report.ts";
import { trustAnchorKeys, type TrustAnchor } from "../trust-anchors.ts";
import { EvidenceRejection, check, type Verdict } from "../verdict.ts";
import { verifyEvidence, type VerifyEvidenceOptions } from "../verify-evidence.ts";
import { verifyAttestationServiceReport } from "./attestation-service-report.ts";
import { bindingReportData } from "./key-binding.ts";
import { readAttestationExtension, type AttestationExtension } from "./teaclave-extension.ts";

/** An accepted peer identity: every field that is set must equal the peer's value (hex). */
export interface AcceptedIdentity {
  readonly mrEnclave?: string;
  readonly mrSigner?: string;
  readonly mrTd?: string;
  /** SEV-SNP MEASUREMENT or the simulated code measurement. */
  readonly measurement?: string;
}

export interface VerifyAttestedCertificateOptions extends Omit<
  VerifyEvidenceOptions,
  "trustAnchors"
> {
  /** Peer identities to accept, or "any" to accept every measurement the policy allows. */
  readonly acceptedIdentities: readonly AcceptedIdentity[] | "any";
  /** Maximum age of the evidence at `now`. Default 24 hours. */
  readonly maxEvidenceAgeMs?: number;
  readonly trustAnchors?: VerifyEvidenceOptions["trustAnchors"] & {
    /** Roots of attestation service report signers (IAS, or Teaclave's DCAP server root). */
    readonly attestationService?: readonly X509Certificate[];
  };
}

/** Default maximum evidence age: 24 hours. */
export const DEFAULT_MAX_EVIDENCE_AGE_MS = 24 * 3600_000;

/** Message of every rejection: the detail stays in `cause` for local logs. */
export const PEER_REJECTED_MESSAGE = "peer attestation failed";

function peerValue(verdict: Verdict, field: keyof AcceptedIdentity): string | undefined {
  const measurements = verdict.measurements as Record<string, unknown> | undefined;
  const value = measurements?.[field];
  return typeof value === "string" ? value : undefined;
}

function matchesIdentity(verdict: Verdict, identity: AcceptedIdentity): boolean {
  const fields = ["mrEnclave", "mrSigner", "mrTd", "measurement"] as const;
  const set = fields.filter((field) => identity[field] !== undefined);
  return (
    set.length > 0 &&
    set.every((field) => identity[field]!.toLowerCase() === peerValue(verdict, field))
  );
}

/** Verifies a Teaclave attestation service report and turns it into a verdict. */
function verdictOfServiceReport(
  extension: AttestationExtension,
  options: VerifyAttestedCertificateOptions,
): Verdict {
  const roots = options.trustAnchors?.attestationService ?? [];
  const report = verifyAttestationServiceReport(
    extension.report,
    extension.signature,
    extension.certs,
    trustAnchorKeys(roots),
    roots,
    options.now.getTime(),
  );
  const policy = resolvePolicy(options.policy);
  check(
    policy.acceptedTcbStatuses.includes(report.tcbStatus),
    "TCB_STATUS_NOT_ACCEPTED",
    `quote status ${report.quoteStatus} is not accepted by the policy`,
  );
  check(policy.allowDebug || !isSgxDebug(report.body), "DEBUG_ENABLED", "enclave is in debug mode");
  const measurements = sgxMeasurements(report.body);
  check(
    allowedBy(policy.mrEnclave, measurements.mrEnclave) &&
      allowedBy(policy.mrSigner, measurements.mrSigner) &&
      (policy.isvProdId === undefined || measurements.isvProdId === policy.isvProdId) &&
      (policy.minIsvSvn === undefined || measurements.isvSvn >= policy.minIsvSvn),
    "MEASUREMENT_MISMATCH",
    "enclave identity does not satisfy the policy",
  );
  return {
    accepted: true,
    tee: "sgx",
    hardwareProtected: true,
    tcbStatus: report.tcbStatus,
    advisoryIds: report.advisoryIds,
    measurements,
    reportData: toHex(report.body.reportData),
    evidenceTime: report.timestamp.toISOString(),
    verifiedAt: options.now.toISOString(),
  };
}

function evidenceOf(extension: AttestationExtension): Evidence {
  const kind = extension.evidenceKind!;
  if (kind === "simulation") {
    const [publicKey] = extension.certs;
    check(publicKey !== undefined, "MALFORMED_EVIDENCE", "simulated evidence has no key");
    const data = encodeSimulatedEvidence({
      report: extension.report,
      signature: extension.signature,
      publicKey,
    });
    return { kind, data };
  }
  const [vek, ask, ark] = extension.certs;
  return {
    kind,
    data: extension.report,
    ...(kind === "sev-snp-report" && vek && ask && ark
      ? { certificates: { vcek: vek, ask, ark } }
      : {}),
  };
}

function verifyOrThrow(
  certificate: X509Certificate,
  options: VerifyAttestedCertificateOptions,
): Verdict {
  const nowMs = verificationTime(options.now);
  const validity = validityOf(certificate);
  check(
    nowMs >= validity.notBefore && nowMs <= validity.notAfter,
    "CERT_EXPIRED",
    "attested certificate is not valid now",
  );
  // The TLS handshake proves possession of this key; Teaclave's own certificates carry an
  // invalid self-signature, so the outer signature is deliberately not checked.
  const extension = readAttestationExtension(certificate.raw);
  check(
    !extension.legacySigningCert,
    "UNSUPPORTED_EVIDENCE",
    "attestation report API version 3 (signing_cert) is not supported",
  );

  let verdict: Verdict;
  let expectedReportData: Uint8Array;
  if (extension.evidenceKind === undefined) {
    verdict = verdictOfServiceReport(extension, options);
    expectedReportData = bindingReportData("sgx-dcap-quote", certificate.publicKey);
  } else {
    const evidence = evidenceOf(extension);
    const { trustAnchors, ...rest } = options;
    verdict = verifyEvidence(evidence, {
      ...rest,
      ...(trustAnchors ? { trustAnchors } : {}),
    });
    if (!verdict.accepted) {
      throw new EvidenceRejection(verdict.rejection!.code, verdict.rejection!.detail);
    }
    expectedReportData = bindingReportData(evidence.kind, certificate.publicKey);
  }

  check(
    verdict.reportData !== undefined &&
      bytesEqual(Buffer.from(verdict.reportData, "hex"), expectedReportData),
    "REPORT_DATA_MISMATCH",
    "evidence is bound to another key",
  );
  // NOTE: DCAP quotes and SNP reports carry no time, so their age is taken from the
  // certificate's notBefore, which the peer chooses. Freshness then rests on the collateral
  // windows; bind a verifier nonce in the report data where that is not enough.
  const evidenceTime = Date.parse(
    verdict.evidenceTime ?? new Date(validity.notBefore).toISOString(),
  );
  const maxAge = options.maxEvidenceAgeMs ?? DEFAULT_MAX_EVIDENCE_AGE_MS;
  check(
    nowMs - evidenceTime <= maxAge && evidenceTime - nowMs <= 300_000,
    "EVIDENCE_STALE",
    `evidence from ${new Date(evidenceTime).toISOString()} is older than ${maxAge} ms`,
  );
  const identities = options.acceptedIdentities;
  check(
    identities === "any" || identities.some((identity) => matchesIdentity(verdict, identity)),
    "MEASUREMENT_MISMATCH",
    "peer measurement is not an accepted identity",
  );
  return verdict;
}

/**
 * Verifies a peer's attested certificate (Node X509Certificate or DER) and returns its
 * verdict. Throws CloisterError PERMISSION_DENIED with a fixed short message on any failure;
 * `cause` is an EvidenceRejection with the code and detail, for local logs only.
 */
export function verifyAttestedCertificate(
  certificate: X509Certificate | Uint8Array,
  options: VerifyAttestedCertificateOptions,
): Verdict {
  try {
    const parsed =
      certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
    return verifyOrThrow(parsed, options);
  } catch (error) {
    if (CloisterError.is(error) && error.code !== "PERMISSION_DENIED") throw error;
    const cause =
      error instanceof EvidenceRejection
        ? error
        : new EvidenceRejection("MALFORMED_EVIDENCE", "attested certificate is invalid", {
            cause: error,
          });
    throw new CloisterError("PERMISSION_DENIED", PEER_REJECTED_MESSAGE, { cause });
  }
}

/** SHA-256 of a certificate's DER, for caching verdicts per peer certificate. */
export function certificateFingerprint(certificate: X509Certificate | Uint8Array): string {
  const der = certificate instanceof X509Certificate ? certificate.raw : certificate;
  return createHash("sha256").update(der).digest("hex");
}
