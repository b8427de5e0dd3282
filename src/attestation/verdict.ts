import { CloisterError } from "../common/errors.ts";

/** TCB status strings of Intel's TCB info and QE identity, plus the TD 1.5 derived ones. */
export type TcbStatus =
  | "UpToDate"
  | "SWHardeningNeeded"
  | "ConfigurationNeeded"
  | "ConfigurationAndSWHardeningNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked"
  | "TDRelaunchAdvised"
  | "TDRelaunchAdvisedConfigurationNeeded";

/** The kind of trusted execution environment that produced the evidence. */
export type TeeKind = "sgx" | "tdx" | "sev-snp" | "simulation";

/**
 * Rejection codes with what each means. The codes are stable, so callers and tests can branch
 * on them; a code is never reused for another meaning.
 */
export const rejectionCodes = {
  MALFORMED_EVIDENCE: "the evidence cannot be parsed or its lengths are inconsistent",
  UNSUPPORTED_EVIDENCE: "a version, key type, TEE type or format that is not supported",
  EVIDENCE_SIGNATURE_INVALID: "the quote, report or attestation report signature fails",
  QE_REPORT_SIGNATURE_INVALID: "the PCK key did not sign the Quoting Enclave report",
  QE_REPORT_BINDING_INVALID: "the QE report does not hash the attestation key",
  CERT_CHAIN_INVALID: "a certificate is unparsable, not a CA, or not signed by its issuer",
  CERT_EXPIRED: "a certificate is not valid at the verification time",
  UNTRUSTED_ROOT: "the chain ends at a key that is not a trust anchor",
  CERT_REVOKED: "a CRL lists a certificate of the chain",
  CRL_INVALID: "a CRL cannot be decoded or its signature fails",
  COLLATERAL_MISSING: "collateral the evidence needs was not given",
  COLLATERAL_INVALID: "TCB info or QE identity cannot be decoded",
  COLLATERAL_SIGNATURE_INVALID: "TCB info or QE identity is not signed by Intel",
  COLLATERAL_EXPIRED: "TCB info, QE identity or a CRL is not current",
  COLLATERAL_MISMATCH: "the collateral describes another platform, TEE or product",
  QE_IDENTITY_MISMATCH: "the Quoting Enclave is not the one the QE identity names",
  TDX_MODULE_MISMATCH: "the TDX module signer or attributes differ from the TCB info",
  TCB_NOT_SUPPORTED: "no TCB level matches the platform",
  TCB_STATUS_NOT_ACCEPTED: "the TCB status or version is below what the policy accepts",
  TCB_VERSION_MISMATCH: "the SNP report's TCB differs from its VCEK or VLEK",
  CHIP_ID_MISMATCH: "the SNP CHIP_ID differs from the VCEK or the policy",
  SIGNING_KEY_MISMATCH: "the SNP report names another key type than the certificate",
  DEBUG_ENABLED: "the enclave, TD or guest can be debugged",
  REPORT_DATA_MISMATCH: "the report data is not the expected nonce or key binding",
  MEASUREMENT_MISMATCH: "a measurement is not in the accepted list",
  POLICY_VIOLATION: "another policy requirement is not met",
  EVIDENCE_STALE: "the evidence is older than the maximum age",
} as const;

export type RejectionCode = keyof typeof rejectionCodes;

/** SGX enclave identity, all byte fields as lower-case hex in memory order. */
export interface SgxMeasurements {
  readonly mrEnclave: string;
  readonly mrSigner: string;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly cpuSvn: string;
  readonly miscSelect: string;
  readonly attributes: string;
  readonly configId: string;
  readonly isvFamilyId: string;
  readonly isvExtProdId: string;
  readonly debug: boolean;
}

/** TDX trust domain identity, all byte fields as lower-case hex in memory order. */
export interface TdxMeasurements {
  readonly mrTd: string;
  readonly rtmrs: readonly [string, string, string, string];
  readonly mrSeam: string;
  readonly mrSignerSeam: string;
  readonly mrConfigId: string;
  readonly mrOwner: string;
  readonly mrOwnerConfig: string;
  readonly teeTcbSvn: string;
  readonly tdAttributes: string;
  readonly seamAttributes: string;
  readonly xfam: string;
  /** TD 1.5 only: SVNs of the TDX module running now. */
  readonly teeTcbSvn2?: string;
  /** TD 1.5 only. */
  readonly mrServiceTd?: string;
  readonly debug: boolean;
}

/** SEV-SNP guest identity and platform state from the attestation report. */
export interface SnpMeasurements {
  readonly measurement: string;
  readonly hostData: string;
  readonly familyId: string;
  readonly imageId: string;
  readonly idKeyDigest: string;
  readonly authorKeyDigest: string;
  readonly reportId: string;
  readonly chipId: string;
  /** POLICY as a hex string of the u64 value, for example `0x30000`. */
  readonly policy: string;
  readonly vmpl: number;
  readonly guestSvn: number;
  readonly reportVersion: number;
  readonly product: string;
  readonly signingKey: "vcek" | "vlek";
  readonly reportedTcb: Readonly<Record<string, number>>;
  /** Firmware running now, as `major.minor.build`. */
  readonly firmwareVersion: string;
  /** PLATFORM_INFO as a hex string of the u64 value. */
  readonly platformInfo: string;
  readonly debug: boolean;
}

/** A measurement of the code that signed simulated evidence. Gives no hardware protection. */
export interface SimulationMeasurements {
  readonly measurement: string;
  readonly debug: boolean;
}

/** A validity interval in ISO 8601 UTC. */
export interface ValidityWindow {
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Why evidence was rejected: a stable code and a detail for local logs. */
export interface Rejection {
  readonly code: RejectionCode;
  /** The failed check in words, for local logs only: never send it to a peer. */
  readonly detail: string;
}

/** The result of verifying one piece of evidence at one point in time. */
export interface Verdict {
  readonly accepted: boolean;
  readonly tee: TeeKind;
  /** False for simulated evidence, which gives no hardware protection at all. */
  readonly hardwareProtected: boolean;
  /** Final TCB status (Intel); undefined when the evidence kind has none or was not reached. */
  readonly tcbStatus?: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly measurements?:
    SgxMeasurements | TdxMeasurements | SnpMeasurements | SimulationMeasurements;
  /** REPORTDATA / REPORT_DATA as lower-case hex (64 bytes). */
  readonly reportData?: string;
  /** Intersection of the validity periods of every certificate, CRL and signed collateral. */
  readonly collateralWindow?: ValidityWindow;
  /** Production time the evidence claims (simulated and IAS-style reports only). */
  readonly evidenceTime?: string;
  /** The `now` the evidence was verified at. */
  readonly verifiedAt: string;
  readonly rejection?: Rejection;
}

/** A failed verification step. Verifiers throw it internally and turn it into a verdict. */
export class EvidenceRejection extends Error {
  override readonly name = "EvidenceRejection";
  readonly code: RejectionCode;

  constructor(code: RejectionCode, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.code = code;
  }
}

/** Throws an EvidenceRejection with `code` unless `condition` holds. */
export function check(condition: boolean, code: RejectionCode, detail: string): asserts condition {
  if (!condition) throw new EvidenceRejection(code, detail);
}

/**
 * Converts an error thrown while verifying to a rejection, so that evidence a parser or
 * node:crypto chokes on fails closed. CloisterErrors (invalid options) are re-thrown.
 */
export function rejectionOf(error: unknown): Rejection {
  if (error instanceof EvidenceRejection) return { code: error.code, detail: error.message };
  if (CloisterError.is(error)) throw error;
  const reason = error instanceof Error ? error.message : String(error);
  return { code: "MALFORMED_EVIDENCE", detail: `evidence could not be processed: ${reason}` };
}
