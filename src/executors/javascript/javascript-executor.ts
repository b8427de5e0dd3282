import { CloisterError } from "../../common/errors.ts";
import type { FunctionRuntime } from "../../functions/runtime.ts";
import type { ExecutionOutcome, ExecutionRequest, Executor } from "../executor.ts";
import { resolveLimits } from "../sandbox/execution-limits.ts";
import type { ResolvedLimits } from "../sandbox/execution-limits.ts";
import { flattenArguments } from "../sandbox/flatten-arguments.ts";
import { saveLogRequested } from "../sandbox/save-log.ts";
import { launchWorker } from "../sandbox/launch-worker.ts";
import { SandboxPool } from "../sandbox/sandbox-pool.ts";
import { commitOutputs, stageInputs } from "../sandbox/staged-files.ts";
import { wasmPageBytes } from "../sandbox/wasm-memory-cap.ts";
import { quickjsInitialPages } from "./javascript-job.ts";
import type { JavaScriptJob, JavaScriptResult } from "./javascript-job.ts";

/** Defaults for zero limits. */
export const javascriptDefaultLimits: ResolvedLimits = {
  cpuTimeMs: 60_000,
  memoryBytes: 64 * 2 ** 20,
  outputBytes: 64 * 2 ** 20,
};

/** Upper bounds a task may request. */
export const javascriptMaximumLimits: ResolvedLimits = {
  cpuTimeMs: 3_600_000,
  memoryBytes: 2 ** 31,
  outputBytes: 2 ** 30,
};

/** Smallest memory limit: QuickJS starts with 16 MiB and needs room to allocate. */
const minimumMemoryBytes = 2 * quickjsInitialPages * wasmPageBytes;

/**
 * Time the worker gets after the CPU time limit before it is terminated. QuickJS's interrupt
 * handler normally stops the guest at the limit, which keeps the worker warm. Termination is
 * the hard stop for a guest stuck outside the interpreter loop.
 */
const hardStopGraceMs = 1000;

const workerEntry = new URL("./javascript-worker.ts", import.meta.url);

/** Options of the JavaScript executor. */
export interface JavaScriptExecutorOptions {
  /** Number of warm worker threads kept for runs; default 2. */
  readonly maxWorkers?: number;
}

/**
 * Runs JavaScript functions (executor `javascript`, executor_type `javascript`) in QuickJS
 * compiled to WebAssembly. The payload is a script or module that defines
 * `entrypoint(argv)`, which may be async, and `argv` is flattened as for Python and
 * WebAssembly functions. The global `open(slot, "rb" | "wb")` gives access to the granted
 * files, and with the argument `save_log` set to "true", `console` output becomes the log.
 * Each run gets a new QuickJS instance with its own capped memory, inside a pooled
 * worker thread that is terminated on cancellation or when the guest outlives its deadline.
 */
export class JavaScriptExecutor implements Executor {
  readonly name = "javascript";
  readonly executorType = "javascript";
  readonly #pool: SandboxPool<string>;

  constructor(options: JavaScriptExecutorOptions = {}) {
    this.#pool = new SandboxPool<string>({
      label: "JavaScript",
      launch: () => launchWorker(workerEntry, { maxOldGenerationSizeMb: 128, stackSizeMb: 4 }),
      maxSandboxes: options.maxWorkers ?? 2,
    });
  }

  async execute(
    request: ExecutionRequest,
    runtime: FunctionRuntime,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const limits = resolveLimits(request.limits, javascriptDefaultLimits, javascriptMaximumLimits);
    if (limits.memoryBytes < minimumMemoryBytes) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `limit memoryBytes of ${limits.memoryBytes} is below the JavaScript executor's ` +
          `minimum of ${minimumMemoryBytes}; raise it`,
      );
    }
    const source = decodeSource(request.payload);
    const staged = await stageInputs(runtime, limits.memoryBytes);
    const job: JavaScriptJob = {
      source,
      argv: flattenArguments(request.arguments),
      inputs: staged.inputs,
      outputNames: staged.outputNames,
      outputLimitBytes: limits.outputBytes,
      memoryBytes: limits.memoryBytes,
      cpuTimeMs: limits.cpuTimeMs,
    };
    const result = (await this.#pool.run("quickjs", job, {
      timeoutMs: limits.cpuTimeMs,
      graceMs: hardStopGraceMs,
      signal,
    })) as JavaScriptResult;
    if (result.outputLimitExceeded !== undefined) {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `output "${result.outputLimitExceeded}" exceeds its limit of ${limits.outputBytes} bytes`,
      );
    }
    await commitOutputs(runtime, result.outputs);
    return { summary: result.summary, log: saveLogRequested(request) ? result.log : [] };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

function decodeSource(payload: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    throw new CloisterError("INVALID_ARGUMENT", "the JavaScript payload is not valid UTF-8 text");
  }
}
