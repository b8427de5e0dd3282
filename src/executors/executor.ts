import type { FunctionRuntime } from "../functions/runtime.ts";

/** Resource limits of one function run. Executors apply their defaults to zero values. */
export interface ExecutionLimits {
  /** CPU time of the run in milliseconds. */
  readonly cpuTimeMs: number;
  /** Memory available to the guest in bytes. */
  readonly memoryBytes: number;
  /** Maximum size of each output in bytes. */
  readonly outputBytes: number;
}

/** One function run, as the execution service hands it to an executor. */
export interface ExecutionRequest {
  readonly taskId: string;
  /** Function name; built-in functions are dispatched by it. */
  readonly functionName: string;
  /** The function's `executor_type`: `builtin`, `python`, `wamr` or `javascript`. */
  readonly executorType: string;
  /** The final argument object of the task, after defaults were filled in. */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Python source, a WebAssembly module or a JavaScript module; empty for built-ins. */
  readonly payload: Uint8Array;
  readonly limits: ExecutionLimits;
}

/** The result of a successful run. */
export interface ExecutionOutcome {
  /** The function's summary string, returned to the task creator as `return_value`. */
  readonly summary: string;
  /** Captured log lines, `[LEVEL module] message`. */
  readonly log: readonly string[];
}

/**
 * A sandbox that runs one kind of function. `execute` raises a CloisterError when the run
 * fails; the message becomes the task's failure reason, so it must not contain plaintext.
 * An aborted `signal` stops the run within a second.
 */
export interface Executor {
  /** The task `executor` value this executor serves, for example `mesapy`. */
  readonly name: string;
  /** The function `executor_type` it accepts, for example `python`. */
  readonly executorType: string;
  execute(
    request: ExecutionRequest,
    runtime: FunctionRuntime,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome>;
  /** Releases pooled sandboxes and workers. */
  close(): Promise<void>;
}
