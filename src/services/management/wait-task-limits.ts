import { CloisterError } from "../../common/errors.ts";

/** Settings of WaitTask, which keeps a request open until its task ends. */
export interface WaitTaskSettings {
  /**
   * Maximum gap between reads of a waited-for task. Commits in this process wake a waiter
   * at once, so the reads matter only for a scheduler in another process.
   */
  readonly maxPollIntervalMs: number;
  /** Concurrent WaitTask calls one user may have open in this process. */
  readonly maxWaitsPerUser: number;
}

/** Counts the open WaitTask calls of each user and rejects those over the cap. */
export class WaitTaskLimits {
  readonly settings: WaitTaskSettings;
  readonly #open = new Map<string, number>();

  constructor(settings: WaitTaskSettings) {
    this.settings = settings;
  }

  /** Registers one open wait of `userId`; returns the function that ends it. */
  enter(userId: string): () => void {
    const open = this.#open.get(userId) ?? 0;
    if (open >= this.settings.maxWaitsPerUser) {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `user ${userId} already has ${open} WaitTask calls open, the maximum; wait for one ` +
          "to return or use GetTask",
      );
    }
    this.#open.set(userId, open + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const remaining = (this.#open.get(userId) ?? 1) - 1;
      if (remaining === 0) this.#open.delete(userId);
      else this.#open.set(userId, remaining);
    };
  }
}
