/**
 * Waiters for writes to record keys, woken by the storage backend after each commit, so that
 * a long-polling RPC returns as soon as a record changes instead of on its next poll.
 */
export class RecordWatchers {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Wakes every waiter of each key. Call it after the commit that wrote the keys. */
  notify(keys: Iterable<string>): void {
    if (this.#waiters.size === 0) return;
    for (const key of keys) {
      const waiters = this.#waiters.get(key);
      if (waiters === undefined) continue;
      this.#waiters.delete(key);
      for (const wake of waiters) wake();
    }
  }

  /** Resolves at the next `notify` of `key`, after `timeoutMs`, or when `signal` aborts. */
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const waiters = this.#waiters.get(key);
        waiters?.delete(done);
        if (waiters?.size === 0) this.#waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      let waiters = this.#waiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(key, waiters);
      }
      waiters.add(done);
    });
  }
}
