import { bytesEqual, isAllZero, toHex } from "../bytes.ts";
import { allowedBy, type ResolvedPolicy } from "../policy.ts";
import { check } from "../verdict.ts";
import {
  POLICY_DEBUG,
  POLICY_RESERVED_ONE,
  type SnpReport,
  type SnpTcbVersion,
} from "./snp-report.ts";

/** Step 7 of SNP report verification: the caller's policy. Throws EvidenceRejection. */
export function applySnpPolicy(
  report: SnpReport,
  tcb: SnpTcbVersion,
  policy: ResolvedPolicy,
): void {
  check(
    (report.policy & POLICY_RESERVED_ONE) !== 0n,
    "POLICY_VIOLATION",
    "guest POLICY bit 17 (reserved, must be 1) is clear",
  );
  check(
    policy.allowDebug || (report.policy & POLICY_DEBUG) === 0n,
    "DEBUG_ENABLED",
    "guest policy allows debugging",
  );

  // The guest: report data and launch identity.
  check(
    policy.reportData === undefined || bytesEqual(report.reportData, policy.reportData),
    "REPORT_DATA_MISMATCH",
    "report data differs from the expected value",
  );
  check(
    allowedBy(policy.measurement, toHex(report.measurement)) &&
      (policy.hostData === undefined || policy.hostData.toLowerCase() === toHex(report.hostData)),
    "MEASUREMENT_MISMATCH",
    "MEASUREMENT or HOST_DATA is not allowed by the policy",
  );
  check(
    policy.vmpl === undefined || report.vmpl === policy.vmpl,
    "POLICY_VIOLATION",
    `VMPL ${report.vmpl} differs from the policy`,
  );

  // The platform: firmware, configuration and chip.
  const firmware = report.currentFirmware;
  const minimumFirmware = policy.snpMinimumFirmware;
  check(
    minimumFirmware === undefined ||
      firmware.major > minimumFirmware.major ||
      (firmware.major === minimumFirmware.major && firmware.minor >= minimumFirmware.minor),
    "TCB_STATUS_NOT_ACCEPTED",
    `firmware ${firmware.major}.${firmware.minor} is below the policy minimum`,
  );
  check(
    policy.snpPlatformInfo === undefined || report.platformInfo === BigInt(policy.snpPlatformInfo),
    "POLICY_VIOLATION",
    `PLATFORM_INFO 0x${report.platformInfo.toString(16)} differs from the policy`,
  );
  check(
    policy.snpChipId === undefined || policy.snpChipId.toLowerCase() === toHex(report.chipId),
    "CHIP_ID_MISMATCH",
    "CHIP_ID differs from the policy",
  );
  // NOTE: an ID block is taken as present when ID_KEY_DIGEST is not zero; the report has no
  // separate flag for it.
  check(
    !policy.snpRequireIdBlock || !isAllZero(report.idKeyDigest),
    "POLICY_VIOLATION",
    "guest was launched without an ID block",
  );

  const minimum = policy.snpMinimumTcb ?? {};
  for (const [key, value] of Object.entries(minimum) as [keyof SnpTcbVersion, number][]) {
    check(
      (tcb[key] ?? 0) >= value,
      "TCB_STATUS_NOT_ACCEPTED",
      `REPORTED_TCB ${key} is below the policy minimum`,
    );
  }
}
