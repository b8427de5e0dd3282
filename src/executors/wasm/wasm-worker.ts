import { CloisterError } from "../../common/errors.ts";
import { GuestFiles } from "../sandbox/guest-files.ts";
import { serveJobs } from "../sandbox/serve-jobs.ts";
import { wasmPageBytes } from "../sandbox/wasm-memory-cap.ts";
import { createTeaclaveEnv } from "./teaclave-env.ts";
import type { WasmJob, WasmResult } from "./wasm-job.ts";

/**
 * Runs one WebAssembly function in a fresh instance: copies `argv` into its memory, calls
 * `entrypoint(argc, argv)` and returns the decimal return value as the summary. A trap gives
 * the summary `Exception: <text>` as a normal result, as Teaclave's WAMR executor did.
 */
function runWasm(job: WasmJob): WasmResult {
  const files = new GuestFiles(job.inputs, job.outputNames, job.outputLimitBytes);
  const imported =
    job.importedMemory === undefined
      ? undefined
      : new WebAssembly.Memory({
          initial: job.importedMemory.initialPages,
          maximum: job.importedMemory.maximumPages,
        });
  let memory: WebAssembly.Memory | undefined = imported;
  const env: Record<string, unknown> = createTeaclaveEnv(files, () => memory);
  if (imported !== undefined) env.memory = imported;

  let summary: string;
  try {
    const instance = new WebAssembly.Instance(job.module, { env } as WebAssembly.Imports);
    memory ??= instance.exports.memory as WebAssembly.Memory;
    const argvPointer = copyArguments(memory, job.argv);
    const entrypoint = instance.exports.entrypoint as (argc: number, argv: number) => unknown;
    summary = String(entrypoint(job.argv.length, argvPointer));
  } catch (error) {
    summary = `Exception: ${trapText(error)}`;
  }
  return { summary, outputs: files.outputs(), outputLimitExceeded: files.limitExceeded };
}

/**
 * Copies the arguments to new pages at the end of memory, where no allocator of the module
 * hands out space: an array of `argc` 32-bit pointers followed by NUL-terminated UTF-8 strings.
 */
function copyArguments(memory: WebAssembly.Memory, argv: readonly string[]): number {
  const strings = argv.map((arg) => Buffer.from(`${arg}\0`, "utf8"));
  const tableBytes = argv.length * 4;
  const total = tableBytes + strings.reduce((sum, bytes) => sum + bytes.length, 0);
  const pages = Math.max(1, Math.ceil(total / wasmPageBytes));
  let base: number;
  try {
    base = memory.grow(pages) * wasmPageBytes;
  } catch {
    throw new CloisterError(
      "RESOURCE_EXHAUSTED",
      `the function's arguments (${total} bytes) do not fit under the memory limit; raise memoryBytes`,
    );
  }
  const view = new DataView(memory.buffer);
  const bytes = new Uint8Array(memory.buffer);
  let next = base + tableBytes;
  strings.forEach((string, index) => {
    view.setUint32(base + index * 4, next, true);
    bytes.set(string, next);
    next += string.length;
  });
  return base;
}

function trapText(error: unknown): string {
  if (CloisterError.is(error)) throw error;
  if (error instanceof WebAssembly.RuntimeError) return error.message;
  if (error instanceof RangeError) return "stack overflow";
  if (error instanceof WebAssembly.LinkError) return `link error: ${error.message}`;
  throw error;
}

serveJobs(async (job) => ({ result: runWasm(job as WasmJob) }));
