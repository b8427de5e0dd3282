import { waitForWake } from "../../common/wait-for-wake.ts";

/**
 * Wakes executors waiting in PullTask when a task is staged. Inside one process management
 * signals it directly; across processes the waiters also poll, so a missed signal only
 * costs one poll interval.
 */
export class TaskSignal {
  #waiters = new Set<() => void>();
  #generation = 0;

  /** Grows with every `notify`; pass it to `wait` to learn of signals sent since. */
  get generation(): number {
    return this.#generation;
  }

  notify(): void {
    this.#generation++;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves at the next `notify`, after `timeoutMs`, or when `signal` aborts. When a
   * notify came after `seenGeneration` was read, it resolves at once, so a task staged
   * between a waiter's last look at the queue and this call is not missed.
   */
  wait(timeoutMs: number, signal?: AbortSignal, seenGeneration?: number): Promise<void> {
    if (seenGeneration !== undefined && seenGeneration !== this.#generation) {
      return Promise.resolve();
    }
    const subscribe = (wake: () => void) => {
      this.#waiters.add(wake);
      return () => this.#waiters.delete(wake);
    };
    return waitForWake(subscribe, timeoutMs, signal);
  }
}
