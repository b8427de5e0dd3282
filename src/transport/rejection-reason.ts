/**
 * Returns the most specific reason code in an error's `cause` chain, such as an attestation
 * rejection code (`MEASUREMENT_MISMATCH`), for local logs. Returns `UNKNOWN` when no error in
 * the chain has a string `code`.
 */
export function rejectionReason(error: unknown): string {
  let reason = "UNKNOWN";
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") reason = code;
    current = (current as { cause?: unknown }).cause;
  }
  return reason;
}
