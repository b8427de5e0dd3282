import { CloisterError } from "../../common/errors.ts";

/** Failed logins allowed per user id within one window before further attempts wait. */
const maxFailures = 5;
const windowMs = 60_000;
/** Most user ids tracked at once; the oldest entries go first. */
const maxTrackedIds = 10_000;

/**
 * Slows password guessing: after five failed logins for one user id within a minute, every
 * login for that id is rejected until the minute has passed. The count lives in this
 * process's memory.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; windowStartMs: number }>();

  /** Raises RESOURCE_EXHAUSTED while `userId` is locked. */
  check(userId: string, nowMs = Date.now()): void {
    const entry = this.#failures.get(userId);
    if (entry === undefined || nowMs - entry.windowStartMs > windowMs) return;
    if (entry.count >= maxFailures) {
      const waitSeconds = Math.ceil((entry.windowStartMs + windowMs - nowMs) / 1000);
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `too many failed logins for this user id: try again in ${waitSeconds} s`,
      );
    }
  }

  recordFailure(userId: string, nowMs = Date.now()): void {
    const entry = this.#failures.get(userId);
    if (entry === undefined || nowMs - entry.windowStartMs > windowMs) {
      this.#failures.delete(userId);
      this.#failures.set(userId, { count: 1, windowStartMs: nowMs });
      if (this.#failures.size > maxTrackedIds) {
        const oldest = this.#failures.keys().next().value;
        if (oldest !== undefined) this.#failures.delete(oldest);
      }
      return;
    }
    entry.count++;
  }

  recordSuccess(userId: string): void {
    this.#failures.delete(userId);
  }
}
