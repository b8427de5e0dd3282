import type { Logger } from "../common/logger.ts";

/** Rejections logged one by one per window; the rest are counted. */
const maxEntriesPerWindow = 20;
const windowMs = 60_000;

/**
 * Logs peer rejections as warnings, at most 20 a minute, so that a peer that reconnects in a
 * loop cannot flood the log. The number of rejections left out is logged when the next
 * window starts.
 */
export function createRejectionLog(
  logger: Logger,
  message: string,
  clock: () => number = Date.now,
): (fields: Record<string, unknown>) => void {
  let windowStartMs = clock();
  let logged = 0;
  let omitted = 0;
  return (fields) => {
    const nowMs = clock();
    if (nowMs - windowStartMs >= windowMs) {
      if (omitted > 0) logger.warn({ omitted, windowMs }, `${message}: more rejections omitted`);
      windowStartMs = nowMs;
      logged = 0;
      omitted = 0;
    }
    if (logged < maxEntriesPerWindow) {
      logged++;
      logger.warn(fields, message);
    } else {
      omitted++;
    }
  };
}
