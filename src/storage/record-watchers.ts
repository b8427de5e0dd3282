import { waitForWake } from "../common/wait-for-wake.ts";

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
    const subscribe = (wake: () => void) => {
      let waiters = this.#waiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(key, waiters);
      }
      waiters.add(wake);
      return () => {
        const current = this.#waiters.get(key);
        current?.delete(wake);
        if (current?.size === 0) this.#waiters.delete(key);
      };
    };
    return waitForWake(subscribe, timeoutMs, signal);
  }
}
