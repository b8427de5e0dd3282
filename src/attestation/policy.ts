import { CloisterError } from "../common/errors.ts";
import type { TcbStatus } from "./verdict.ts";

/** Minimum SEV-SNP TCB component SPLs; unset components are not checked. */
export interface SnpMinimumTcb {
  readonly bootloader?: number;
  readonly tee?: number;
  readonly snp?: number;
  readonly microcode?: number;
  readonly fmc?: number;
}

/**
 * Verification policy: the evidence the caller accepts. Every field is optional, and
 * `resolvePolicy` fills in the defaults. Measurement lists are allow-lists of lower-case or upper-case hex: the evidence must match
 * one entry. An empty or missing list accepts any value.
 */
export interface VerificationPolicy {
  /** Accepted final TCB statuses of Intel evidence. Default: only `UpToDate`. */
  readonly acceptedTcbStatuses?: readonly TcbStatus[];
  /** Accept evidence from debug enclaves, TDs or guests. Default false. */
  readonly allowDebug?: boolean;
  /** Require the Intel SGX Root CA CRL. Default true. */
  readonly requireRootCaCrl?: boolean;
  /** Minimum `tcbEvaluationDataNumber` of Intel TCB info and QE identity. */
  readonly minTcbEvaluationDataNumber?: number;
  /** Required REPORTDATA (64 bytes), for example a nonce or key hash. */
  readonly reportData?: Uint8Array;
  readonly mrEnclave?: readonly string[];
  readonly mrSigner?: readonly string[];
  readonly isvProdId?: number;
  readonly minIsvSvn?: number;
  readonly mrTd?: readonly string[];
  /** Required RTMR0..3 values; an undefined entry is not checked. */
  readonly rtmrs?: readonly (string | undefined)[];
  readonly mrSeam?: readonly string[];
  /** SEV-SNP launch MEASUREMENT allow-list. */
  readonly measurement?: readonly string[];
  readonly hostData?: string;
  /** Required SEV-SNP VMPL of the requester. */
  readonly vmpl?: number;
  readonly snpMinimumTcb?: SnpMinimumTcb;
  /** Minimum SEV-SNP firmware version (CURRENT_MAJOR.CURRENT_MINOR). */
  readonly snpMinimumFirmware?: { readonly major: number; readonly minor: number };
  /** Required PLATFORM_INFO value (bit 0 SMT enabled, bit 1 TSME enabled, …). */
  readonly snpPlatformInfo?: number;
  /** Required CHIP_ID (hex). */
  readonly snpChipId?: string;
  /** Require a guest launched with an ID block (non-zero ID_KEY_DIGEST). */
  readonly snpRequireIdBlock?: boolean;
  /** Simulated evidence: allow-list of code measurements. */
  readonly simulationMeasurement?: readonly string[];
}

/** A policy with every default applied. */
export interface ResolvedPolicy extends VerificationPolicy {
  readonly acceptedTcbStatuses: readonly TcbStatus[];
  readonly allowDebug: boolean;
  readonly requireRootCaCrl: boolean;
}

/** Applies the defaults and checks the option types once. */
export function resolvePolicy(policy: VerificationPolicy = {}): ResolvedPolicy {
  if (policy.reportData !== undefined && policy.reportData.length !== 64) {
    throw new CloisterError("INVALID_ARGUMENT", "policy reportData must be 64 bytes");
  }
  return {
    ...policy,
    acceptedTcbStatuses: policy.acceptedTcbStatuses ?? ["UpToDate"],
    allowDebug: policy.allowDebug ?? false,
    requireRootCaCrl: policy.requireRootCaCrl ?? true,
  };
}

/**
 * Returns `now` in epoch milliseconds. Throws INVALID_ARGUMENT for an invalid Date, because
 * NaN compares false with every bound and would pass every validity check.
 */
export function verificationTime(now: Date): number {
  const ms = now instanceof Date ? now.getTime() : NaN;
  if (Number.isNaN(ms)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "now must be a valid Date: pass the verification time",
    );
  }
  return ms;
}

/** Tells whether `value` (hex) is allowed by `list` (hex, any case); a missing list allows all. */
export function allowedBy(list: readonly string[] | undefined, value: string): boolean {
  if (list === undefined || list.length === 0) return true;
  return list.some((entry) => entry.toLowerCase() === value.toLowerCase());
}
