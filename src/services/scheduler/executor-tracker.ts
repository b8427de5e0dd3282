/** Liveness state of one executor, from its heartbeats and pulls. */
export interface ExecutorState {
  lastSeenMs: number;
  /** The task the executor runs or has pulled, if any. */
  taskId: string | null;
}

/**
 * Liveness of executors, kept in memory: an executor that has sent nothing for
 * `timeoutMs` is lost, and so is the task it held.
 *
 * NOTE: the state lives in one scheduler process. After a scheduler restart, executors that
 * hold tasks get a fresh grace period (see `restore`) rather than their true last-seen time.
 */
export class ExecutorTracker {
  readonly #executors = new Map<string, ExecutorState>();

  seen(executorId: string, nowMs: number): ExecutorState {
    let state = this.#executors.get(executorId);
    if (state === undefined) {
      state = { lastSeenMs: nowMs, taskId: null };
      this.#executors.set(executorId, state);
    }
    state.lastSeenMs = nowMs;
    return state;
  }

  /** Records that an executor has a task, as found in storage at start-up. */
  restore(executorId: string, taskId: string, nowMs: number): void {
    this.#executors.set(executorId, { lastSeenMs: nowMs, taskId });
  }

  assign(executorId: string, taskId: string | null, nowMs: number): void {
    this.seen(executorId, nowMs).taskId = taskId;
  }

  /** Removes and returns the executors silent for longer than `timeoutMs`. */
  takeLost(nowMs: number, timeoutMs: number): { executorId: string; taskId: string | null }[] {
    const lost = [];
    for (const [executorId, state] of this.#executors) {
      if (nowMs - state.lastSeenMs > timeoutMs) {
        lost.push({ executorId, taskId: state.taskId });
        this.#executors.delete(executorId);
      }
    }
    return lost;
  }
}
