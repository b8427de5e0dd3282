import { bytesEqual, toHex } from "../bytes.ts";
import { allowedBy, type ResolvedPolicy } from "../policy.ts";
import { check, type TcbStatus } from "../verdict.ts";
import { isSgxDebug, isTdDebug } from "./measurements.ts";
import type { Quote } from "./quote.ts";

/** Step 14 of DCAP quote verification: the caller's policy. Throws EvidenceRejection. */
export function applyQuotePolicy(
  quote: Quote,
  status: TcbStatus,
  tcbEvaluationDataNumber: number,
  policy: ResolvedPolicy,
): void {
  check(
    policy.acceptedTcbStatuses.includes(status),
    "TCB_STATUS_NOT_ACCEPTED",
    `TCB status ${status} is not accepted by the policy`,
  );
  check(
    policy.minTcbEvaluationDataNumber === undefined ||
      tcbEvaluationDataNumber >= policy.minTcbEvaluationDataNumber,
    "POLICY_VIOLATION",
    `tcbEvaluationDataNumber ${tcbEvaluationDataNumber} is below the policy minimum`,
  );
  const body = quote.body;
  check(
    policy.reportData === undefined || bytesEqual(body.report.reportData, policy.reportData),
    "REPORT_DATA_MISMATCH",
    "report data differs from the expected value",
  );
  if (body.kind === "sgx") {
    const report = body.report;
    check(policy.allowDebug || !isSgxDebug(report), "DEBUG_ENABLED", "enclave is in debug mode");
    check(
      allowedBy(policy.mrEnclave, toHex(report.mrEnclave)) &&
        allowedBy(policy.mrSigner, toHex(report.mrSigner)),
      "MEASUREMENT_MISMATCH",
      "MRENCLAVE or MRSIGNER is not in the policy's allow-list",
    );
    check(
      (policy.isvProdId === undefined || report.isvProdId === policy.isvProdId) &&
        (policy.minIsvSvn === undefined || report.isvSvn >= policy.minIsvSvn),
      "MEASUREMENT_MISMATCH",
      "ISVPRODID or ISVSVN does not satisfy the policy",
    );
    return;
  }
  const report = body.report;
  check(policy.allowDebug || !isTdDebug(report), "DEBUG_ENABLED", "trust domain is in debug mode");
  check(
    allowedBy(policy.mrTd, toHex(report.mrTd)) && allowedBy(policy.mrSeam, toHex(report.mrSeam)),
    "MEASUREMENT_MISMATCH",
    "MRTD or MRSEAM is not in the policy's allow-list",
  );
  const rtmrs = policy.rtmrs ?? [];
  check(rtmrs.length <= 4, "POLICY_VIOLATION", "the policy lists more than 4 RTMRs");
  check(
    rtmrs.every(
      (expected, i) => expected === undefined || expected.toLowerCase() === toHex(report.rtmrs[i]!),
    ),
    "MEASUREMENT_MISMATCH",
    "an RTMR differs from the policy",
  );
}
