import { CloisterError } from "../../common/errors.ts";
import type { ErrorCode } from "../../common/errors.ts";
import type { SandboxChannel, SandboxReply } from "./sandbox-channel.ts";

/** Options of a pool of sandboxes. */
export interface SandboxPoolOptions<K> {
  /** Name used in error messages, for example `Python`. */
  readonly label: string;
  /** Starts a sandbox for `key`; resolves once it can take jobs. */
  readonly launch: (key: K) => Promise<SandboxChannel>;
  /** Maximum number of live sandboxes, busy, idle and starting together. */
  readonly maxSandboxes: number;
  /**
   * Runs at most one job in each sandbox, so no state can pass from one job to the next
   * (default false). The pool then keeps one started spare sandbox for the key of the last
   * job while `maxSandboxes` allows, so the next job with that key does not wait for a start.
   */
  readonly singleUse?: boolean;
}

/** Time limit and cancellation of one job. */
export interface JobOptions {
  /** CPU time limit of the job, counted from sending it to the sandbox. */
  readonly timeoutMs: number;
  /**
   * Extra time before the host kills the sandbox, for sandboxes that stop the guest at
   * `timeoutMs` themselves and can then be reused; default 0.
   */
  readonly graceMs?: number;
  readonly signal: AbortSignal;
}

interface Slot<K> {
  readonly key: K;
  readonly channel: SandboxChannel;
  alive: boolean;
  onReply: ((reply: SandboxReply) => void) | undefined;
  onExit: ((reason: string) => void) | undefined;
}

/**
 * A lazily filled pool of warm sandboxes (worker threads or child processes), keyed by their
 * configuration, for example the memory cap. Each sandbox runs one job at a time. A sandbox
 * that times out, is cancelled, crashes or requests retirement is killed and replaced on
 * demand, so the pool stays usable after a runaway job. With `singleUse`, every sandbox is
 * killed after its job and a spare is started in the background.
 */
export class SandboxPool<K> {
  readonly #options: SandboxPoolOptions<K>;
  readonly #idle: Slot<K>[] = [];
  readonly #busy = new Set<Slot<K>>();
  readonly #waiters: (() => void)[] = [];
  /** Keys for which a spare sandbox is starting. */
  readonly #startingSpares = new Set<K>();
  #live = 0;
  #closed = false;

  constructor(options: SandboxPoolOptions<K>) {
    this.#options = options;
  }

  /** Runs `job` in a sandbox for `key` and returns the sandbox's result. */
  async run(key: K, job: unknown, options: JobOptions): Promise<unknown> {
    throwIfCancelled(options.signal);
    const slot = await this.#acquire(key, options.signal);
    if (this.#closed) {
      // The pool was closed while this sandbox was starting.
      this.#discard(slot);
      throw this.#closedError();
    }
    if (options.signal.aborted) {
      // The run was cancelled while this sandbox was starting; keep the sandbox warm.
      this.#release(slot);
      throw cancelled();
    }
    this.#busy.add(slot);
    // Starts the next job's sandbox while this job runs, when the pool has room for it.
    if (this.#options.singleUse === true) this.#startSpare(key);
    let keep = false;
    try {
      const reply = await this.#exchange(slot, job, options);
      keep = this.#options.singleUse !== true && reply.type !== "ready" && reply.retire !== true;
      if (reply.type === "failed") {
        throw new CloisterError(reply.code as ErrorCode, reply.message);
      }
      if (reply.type !== "done") {
        throw new CloisterError(
          "INTERNAL",
          `the ${this.#options.label} sandbox sent an unexpected reply`,
        );
      }
      return reply.result;
    } finally {
      this.#busy.delete(slot);
      if (keep && slot.alive && !this.#closed) this.#release(slot);
      else this.#discard(slot);
      if (this.#options.singleUse === true) this.#startSpare(key);
    }
  }

  /** Kills every sandbox; jobs still running fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const slot of this.#idle.splice(0)) this.#discard(slot);
    // A busy slot is discarded by its run, which fails once its sandbox has exited.
    for (const slot of this.#busy) slot.channel.kill();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #exchange(slot: Slot<K>, job: unknown, options: JobOptions): Promise<SandboxReply> {
    const { label } = this.#options;
    return new Promise<SandboxReply>((resolve, reject) => {
      if (!slot.alive) {
        reject(new CloisterError("INTERNAL", `the ${label} sandbox stopped before the run`));
        return;
      }
      const finish = (): void => {
        clearTimeout(timer);
        options.signal.removeEventListener("abort", onAbort);
        slot.onReply = undefined;
        slot.onExit = undefined;
      };
      const stop = (error: CloisterError): void => {
        finish();
        slot.alive = false;
        slot.channel.kill();
        reject(error);
      };
      // NOTE: the limit is measured as wall-clock time from sending the job, so waiting for
      // a busy CPU counts too; Node.js 20 has no per-thread CPU clock to measure it exactly.
      const timer = setTimeout(
        () =>
          stop(
            new CloisterError(
              "DEADLINE_EXCEEDED",
              `the function ran past its CPU time limit of ${options.timeoutMs} ms and was stopped`,
            ),
          ),
        options.timeoutMs + (options.graceMs ?? 0),
      );
      const onAbort = (): void => stop(cancelled());
      options.signal.addEventListener("abort", onAbort, { once: true });
      slot.onReply = (reply) => {
        finish();
        resolve(reply);
      };
      slot.onExit = (reason) => {
        finish();
        reject(
          new CloisterError("INTERNAL", `the ${label} sandbox stopped during the run: ${reason}`),
        );
      };
      slot.channel.keepAlive(true);
      slot.channel.send({ type: "run", job });
    });
  }

  async #acquire(key: K, signal: AbortSignal): Promise<Slot<K>> {
    for (;;) {
      if (this.#closed) throw this.#closedError();
      throwIfCancelled(signal);
      for (const dead of this.#idle.filter((slot) => !slot.alive)) {
        this.#idle.splice(this.#idle.indexOf(dead), 1);
        this.#discard(dead);
      }
      const index = this.#idle.findIndex((slot) => slot.key === key);
      if (index !== -1) return this.#idle.splice(index, 1)[0]!;
      if (this.#live < this.#options.maxSandboxes) return this.#start(key);
      const evictable = this.#idle.shift();
      if (evictable !== undefined) {
        this.#discard(evictable);
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener("abort", wake);
          // A cancelled wait must leave the queue, or a later wake-up would reach it
          // instead of a job that still waits.
          const index = this.#waiters.indexOf(wake);
          if (index !== -1) this.#waiters.splice(index, 1);
          resolve();
        };
        this.#waiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  async #start(key: K): Promise<Slot<K>> {
    this.#live += 1;
    let channel: SandboxChannel;
    try {
      channel = await this.#options.launch(key);
    } catch (error) {
      this.#live -= 1;
      this.#wakeOne();
      throw error;
    }
    const slot: Slot<K> = { key, channel, alive: true, onReply: undefined, onExit: undefined };
    channel.onMessage((reply) => slot.onReply?.(reply));
    channel.onExit((reason) => {
      slot.alive = false;
      slot.onExit?.(reason);
    });
    return slot;
  }

  /**
   * Starts a sandbox for `key` in the background and adds it to the idle ones, unless one is
   * idle or starting already or the pool is full.
   */
  #startSpare(key: K): void {
    if (this.#closed || this.#live >= this.#options.maxSandboxes) return;
    if (this.#startingSpares.has(key) || this.#idle.some((slot) => slot.key === key)) return;
    this.#startingSpares.add(key);
    this.#start(key).then(
      (slot) => {
        this.#startingSpares.delete(key);
        if (this.#closed) this.#discard(slot);
        else this.#release(slot);
      },
      () => {
        // NOTE: the failure is not reported here. The next job with this key starts its
        // own sandbox and fails with the launch error if the cause persists.
        this.#startingSpares.delete(key);
      },
    );
  }

  #release(slot: Slot<K>): void {
    slot.channel.keepAlive(false);
    this.#idle.push(slot);
    this.#wakeOne();
  }

  #discard(slot: Slot<K>): void {
    slot.alive = false;
    slot.channel.kill();
    this.#live -= 1;
    this.#wakeOne();
  }

  #closedError(): CloisterError {
    return new CloisterError("UNAVAILABLE", `the ${this.#options.label} executor is closed`);
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }
}

function cancelled(): CloisterError {
  return new CloisterError("ABORTED", "the function run was cancelled");
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw cancelled();
}
