import type { FunctionRuntime } from "../../functions/runtime.ts";
import { CloisterError } from "../../common/errors.ts";
import type { ExecutionOutcome, ExecutionRequest, Executor } from "../executor.ts";
import { resolveLimits } from "../sandbox/execution-limits.ts";
import type { ResolvedLimits } from "../sandbox/execution-limits.ts";
import { flattenArguments } from "../sandbox/flatten-arguments.ts";
import { saveLogRequested } from "../sandbox/save-log.ts";
import { SandboxPool } from "../sandbox/sandbox-pool.ts";
import { commitOutputs, stageInputs } from "../sandbox/staged-files.ts";
import type { GuestOutput } from "../sandbox/staged-files.ts";
import { wasmPageBytes } from "../sandbox/wasm-memory-cap.ts";
import { launchPyodide } from "./launch-pyodide.ts";

/**
 * Defaults for zero limits. The memory limit caps the interpreter's whole WebAssembly heap,
 * which contains Python itself (about 30 MiB after loading) as well as the function's data.
 */
export const pythonDefaultLimits: ResolvedLimits = {
  cpuTimeMs: 60_000,
  memoryBytes: 512 * 2 ** 20,
  outputBytes: 64 * 2 ** 20,
};

/** Upper bounds a task may request; 4 GiB is the most a 32-bit memory can address. */
export const pythonMaximumLimits: ResolvedLimits = {
  cpuTimeMs: 3_600_000,
  memoryBytes: 4 * 2 ** 30 - wasmPageBytes,
  outputBytes: 2 ** 30,
};

/** Smallest memory limit with which Pyodide loads and runs small functions. */
export const pythonMinimumMemoryBytes = 128 * 2 ** 20;

/** Options of the Python executor. */
export interface PythonExecutorOptions {
  /**
   * Maximum number of interpreter processes, running, starting and spare together; default 2.
   * Each takes about 150 MB.
   */
  readonly maxInterpreters?: number;
}

interface PythonResult {
  readonly summary: string;
  readonly outputs: GuestOutput[];
  /** Lines the function printed, at most 1000 lines or 64 KiB. */
  readonly log: string[];
}

/**
 * Runs Python functions with Teaclave's MesaPy interface (executor `mesapy`, executor_type
 * `python`) on Pyodide, offline. The payload defines `entrypoint(argv)` and opens its files
 * with `teaclave_open(slot, "rb" | "wb")`. An uncaught exception gives the summary
 * `MESAPY_EXEC_ERROR` and a summary over 20480 bytes gives `MESAPY_ERROR_BUFFER_TOO_SHORT`,
 * both as normal results. Using an unavailable module, builtin or attribute fails the run
 * with PERMISSION_DENIED even when the function catches the error.
 *
 * NOTE: the source must be valid Python 3. Of Python 2, only the builtins xrange, unicode,
 * long, basestring, unichr and reduce, str results from file reads and `e.message` on the
 * file API's errors are provided. Print statements fail to parse, and `/` divides as in
 * Python 3.
 *
 * With the argument `save_log` set to "true", what the function prints becomes the log,
 * one `[INFO mesapy] <line>` per line.
 *
 * Each task runs in a fresh interpreter process, which is killed after the task, because
 * a task can change state that the Python-level checks do not reset, for example the
 * attributes of standard-library classes. Processes start from a memory snapshot of a
 * freshly loaded interpreter, and the executor keeps one started spare process so that the
 * next task does not wait for the start.
 */
export class MesapyExecutor implements Executor {
  readonly name = "mesapy";
  readonly executorType = "python";
  readonly #pool: SandboxPool<number>;

  constructor(options: PythonExecutorOptions = {}) {
    this.#pool = new SandboxPool<number>({
      label: "Python",
      launch: (maxPages) => launchPyodide(maxPages),
      maxSandboxes: options.maxInterpreters ?? 2,
      singleUse: true,
    });
  }

  async execute(
    request: ExecutionRequest,
    runtime: FunctionRuntime,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const limits = resolveLimits(request.limits, pythonDefaultLimits, pythonMaximumLimits);
    if (limits.memoryBytes < pythonMinimumMemoryBytes) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `limit memoryBytes of ${limits.memoryBytes} is below the Python executor's minimum ` +
          `of ${pythonMinimumMemoryBytes}; raise it`,
      );
    }
    const source = decodeSource(request.payload);
    const staged = await stageInputs(runtime, limits.memoryBytes);
    const job = {
      source,
      argv: flattenArguments(request.arguments),
      inputs: staged.inputs,
      outputNames: staged.outputNames,
      outputLimitBytes: limits.outputBytes,
      memoryBytes: limits.memoryBytes,
    };
    const maxPages = Math.floor(limits.memoryBytes / wasmPageBytes);
    const result = (await this.#pool.run(maxPages, job, {
      timeoutMs: limits.cpuTimeMs,
      signal,
    })) as PythonResult;
    await commitOutputs(runtime, result.outputs);
    const log = saveLogRequested(request) ? result.log.map((line) => `[INFO mesapy] ${line}`) : [];
    return { summary: result.summary, log };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

function decodeSource(payload: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    throw new CloisterError("INVALID_ARGUMENT", "the Python payload is not valid UTF-8 text");
  }
}
