import { CloisterError } from "../../common/errors.ts";
import type { FunctionRuntime } from "../../functions/runtime.ts";
import type { ExecutionOutcome, ExecutionRequest, Executor } from "../executor.ts";
import { resolveLimits } from "../sandbox/execution-limits.ts";
import type { ResolvedLimits } from "../sandbox/execution-limits.ts";
import { flattenArguments } from "../sandbox/flatten-arguments.ts";
import { launchWorker } from "../sandbox/launch-worker.ts";
import { SandboxPool } from "../sandbox/sandbox-pool.ts";
import { commitOutputs, stageInputs } from "../sandbox/staged-files.ts";
import { wasmPageBytes } from "../sandbox/wasm-memory-cap.ts";
import { prepareModule } from "./prepare-module.ts";
import type { WasmJob, WasmResult } from "./wasm-job.ts";

/**
 * Defaults for zero limits. 64 MiB of linear memory is three times WAMR's 20 MiB heap in
 * Teaclave, leaving room for the module's own data and stack.
 */
export const wasmDefaultLimits: ResolvedLimits = {
  cpuTimeMs: 60_000,
  memoryBytes: 64 * 2 ** 20,
  outputBytes: 64 * 2 ** 20,
};

/** Upper bounds a task may request; 4 GiB is the most a 32-bit memory can address. */
export const wasmMaximumLimits: ResolvedLimits = {
  cpuTimeMs: 3_600_000,
  memoryBytes: 4 * 2 ** 30,
  outputBytes: 2 ** 30,
};

const workerEntry = new URL("./wasm-worker.ts", import.meta.url);

/** Options of the WebAssembly executor. */
export interface WasmExecutorOptions {
  /** Number of warm worker threads kept for runs; default 2. */
  readonly maxWorkers?: number;
}

/**
 * Runs WebAssembly functions with Teaclave's WAMR interface (executor `wamr`, executor_type
 * `wamr`). Each run gets a fresh instance in a pooled worker thread; the worker is terminated
 * when the run times out or is cancelled. The module's memory is capped by rewriting its
 * declared maximum (or by supplying `env.memory` with a maximum), because worker resource
 * limits do not count WebAssembly memory.
 */
export class WasmExecutor implements Executor {
  readonly name = "wamr";
  readonly executorType = "wamr";
  readonly #pool: SandboxPool<string>;

  constructor(options: WasmExecutorOptions = {}) {
    this.#pool = new SandboxPool<string>({
      label: "WebAssembly",
      launch: () => launchWorker(workerEntry, { maxOldGenerationSizeMb: 128, stackSizeMb: 4 }),
      maxSandboxes: options.maxWorkers ?? 2,
    });
  }

  async execute(
    request: ExecutionRequest,
    runtime: FunctionRuntime,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const limits = resolveLimits(request.limits, wasmDefaultLimits, wasmMaximumLimits);
    const maxPages = Math.floor(limits.memoryBytes / wasmPageBytes);
    const { module, importedMemory } = await prepareModule(request.payload, maxPages);
    const staged = await stageInputs(runtime, limits.memoryBytes);
    const job: WasmJob = {
      module,
      importedMemory,
      argv: flattenArguments(request.arguments),
      inputs: staged.inputs,
      outputNames: staged.outputNames,
      outputLimitBytes: limits.outputBytes,
    };
    const result = (await this.#pool.run("wasm", job, {
      timeoutMs: limits.cpuTimeMs,
      signal,
    })) as WasmResult;
    if (result.outputLimitExceeded !== undefined) {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `output "${result.outputLimitExceeded}" exceeds its limit of ${limits.outputBytes} bytes`,
      );
    }
    await commitOutputs(runtime, result.outputs);
    return { summary: result.summary, log: [] };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
