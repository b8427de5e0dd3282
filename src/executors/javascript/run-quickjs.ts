import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { RELEASE_SYNC, newQuickJSWASMModuleFromVariant, newVariant } from "quickjs-emscripten";
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";
import { CloisterError } from "../../common/errors.ts";
import { GuestFileError, GuestFiles } from "../sandbox/guest-files.ts";
import { wasmPageBytes } from "../sandbox/wasm-memory-cap.ts";
import { guestPrelude } from "./guest-prelude.ts";
import { quickjsInitialPages } from "./javascript-job.ts";
import type { JavaScriptJob, JavaScriptResult } from "./javascript-job.ts";

/**
 * Maximum stack of the guest. With a larger stack, deep recursion overflows the host's stack
 * first and leaves the runtime corrupted; at 256 KiB QuickJS raises its own clean error.
 */
const maxStackBytes = 256 * 1024;
/** Bounds on the console output kept for the task's log. */
const maxLogLines = 1000;
const maxLogBytes = 65536;
/** Largest summary, as in Teaclave's MesaPy executor. */
export const maxSummaryBytes = 20480;

/** Largest memory kept for the next run. */
const maxReusedMemoryBytes = 64 * 2 ** 20;
let compiledQuickJs: WebAssembly.Module | undefined;
const idleMemories = new Map<number, WebAssembly.Memory>();

/** Compiles QuickJS's WebAssembly binary once per worker. */
function quickJsModule(): WebAssembly.Module {
  if (compiledQuickJs === undefined) {
    const require = createRequire(import.meta.url);
    const path = require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
    compiledQuickJs = new WebAssembly.Module(readFileSync(path));
  }
  return compiledQuickJs;
}

/**
 * Returns a zeroed memory with the given maximum. Memories are reused between runs because
 * allocating a new one each time drives V8 into long garbage collections. A zeroed memory
 * contains nothing of the previous run, and instantiating QuickJS on it initializes it afresh.
 */
function takeMemory(maxPages: number): WebAssembly.Memory {
  const memory = idleMemories.get(maxPages);
  idleMemories.delete(maxPages);
  if (memory === undefined) {
    return new WebAssembly.Memory({ initial: quickjsInitialPages, maximum: maxPages });
  }
  new Uint8Array(memory.buffer).fill(0);
  return memory;
}

/**
 * Runs one JavaScript function in a new QuickJS instance whose WebAssembly memory has a hard
 * maximum of `job.memoryBytes`. The guest can reach only the ECMAScript built-ins and `open`,
 * and an interrupt handler stops it at the CPU time deadline. An uncaught exception gives the
 * summary `Exception: <error name>` as a normal result. Its message is left out because it
 * may quote input data.
 */
export async function runQuickJs(job: JavaScriptJob): Promise<JavaScriptResult> {
  const maxPages = Math.floor(job.memoryBytes / wasmPageBytes);
  const memory = takeMemory(maxPages);
  const quickjs = await newQuickJSWASMModuleFromVariant(
    newVariant(RELEASE_SYNC, { wasmMemory: memory as never, wasmModule: quickJsModule() as never }),
  );
  const runtime = quickjs.newRuntime();
  runtime.setMaxStackSize(maxStackBytes);
  const deadline = performance.now() + job.cpuTimeMs;
  runtime.setInterruptHandler(() => performance.now() > deadline);
  const vm = runtime.newContext();
  const files = new GuestFiles(job.inputs, job.outputNames, job.outputLimitBytes);
  const log = new LogLines();

  const summaryOf = (error: QuickJSHandle): string => {
    const thrown: unknown = vm.dump(error);
    error.dispose();
    if (performance.now() > deadline) {
      throw new CloisterError(
        "DEADLINE_EXCEEDED",
        `the function ran past its CPU time limit of ${job.cpuTimeMs} ms and was stopped`,
      );
    }
    const { name, message } = (typeof thrown === "object" && thrown !== null ? thrown : {}) as {
      name?: unknown;
      message?: unknown;
    };
    if (name === "InternalError" && message === "out of memory") {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `the function ran out of its memory limit of ${job.memoryBytes} bytes`,
      );
    }
    return `Exception: ${typeof name === "string" ? name : typeof thrown}`;
  };

  let summary: string;
  try {
    installPrelude(vm, files, log);
    const entrypoint = loadEntrypoint(vm, job.source, runtime.executePendingJobs.bind(runtime));
    if ("error" in entrypoint) {
      summary = summaryOf(entrypoint.error);
    } else {
      const argv = vm.newArray();
      job.argv.forEach((arg, index) => vm.setProp(argv, index, vm.newString(arg)));
      const result = vm.callFunction(entrypoint.value, vm.undefined, argv);
      argv.dispose();
      entrypoint.value.dispose();
      const settled =
        result.error === undefined
          ? settle(vm, result.value, runtime.executePendingJobs.bind(runtime))
          : { error: result.error };
      summary = "error" in settled ? summaryOf(settled.error) : summaryText(vm, settled.value);
    }
  } finally {
    disposeQuietly(() => vm.dispose());
    disposeQuietly(() => runtime.dispose());
    // One memory per cap is kept, and only while it is small, because it stays committed
    // and is zeroed before each reuse.
    if (memory.buffer.byteLength <= maxReusedMemoryBytes) idleMemories.set(maxPages, memory);
  }
  if (Buffer.byteLength(summary, "utf8") > maxSummaryBytes) {
    throw new CloisterError(
      "RESOURCE_EXHAUSTED",
      `the function returned ${Buffer.byteLength(summary, "utf8")} bytes, more than the ` +
        `summary limit of ${maxSummaryBytes} bytes; write large results to an output`,
    );
  }
  return {
    summary,
    outputs: files.outputs(),
    outputLimitExceeded: files.limitExceeded,
    log: log.lines,
  };
}

/** Console output as `[LEVEL javascript] message` lines, up to the log bounds. */
class LogLines {
  readonly lines: string[] = [];
  #bytes = 0;

  add(level: string, message: string): void {
    for (const text of message.split("\n")) {
      if (this.lines.length >= maxLogLines || this.#bytes >= maxLogBytes) return;
      const line = `[${level} javascript] ${text}`;
      this.#bytes += Buffer.byteLength(line, "utf8");
      this.lines.push(line);
    }
  }
}

function installPrelude(vm: QuickJSContext, files: GuestFiles, log: LogLines): void {
  const host = vm.newObject();
  const define = (name: string, fn: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
    const handle = vm.newFunction(name, (...args) => {
      try {
        return fn(...args);
      } catch (error) {
        // quickjs-emscripten rethrows a host Error inside the guest as a guest Error.
        if (error instanceof GuestFileError) throw new Error(error.message);
        throw error;
      }
    });
    vm.setProp(host, name, handle);
    handle.dispose();
  };
  const readSize = (size: QuickJSHandle): number => {
    const value = vm.getNumber(size);
    return value < 0 || !Number.isFinite(value) ? Number.MAX_SAFE_INTEGER : value;
  };
  define("open", (slot, mode) => {
    const name = vm.getString(slot);
    const handle = vm.getString(mode) === "rb" ? files.openInput(name) : files.createOutput(name);
    return vm.newNumber(handle);
  });
  define("read", (handle, size) =>
    vm.newString(decodeUtf8(files.read(vm.getNumber(handle), readSize(size)))),
  );
  define("readBytes", (handle, size) =>
    vm.newArrayBuffer(files.read(vm.getNumber(handle), readSize(size)).slice().buffer),
  );
  define("readLine", (handle) => vm.newString(decodeUtf8(files.readLine(vm.getNumber(handle)))));
  define("write", (handle, data) => {
    let bytes: Uint8Array;
    if (vm.typeof(data) === "string") {
      bytes = Buffer.from(vm.getString(data), "utf8");
    } else {
      const view = vm.getArrayBuffer(data);
      bytes = view.value.slice();
      view.dispose();
    }
    files.write(vm.getNumber(handle), bytes);
    return undefined;
  });
  define("log", (level, message) => {
    log.add(vm.getString(level), vm.getString(message));
    return undefined;
  });
  define("close", (handle) => {
    files.close(vm.getNumber(handle));
    return undefined;
  });
  const prelude = vm.unwrapResult(vm.evalCode(guestPrelude, "prelude.js", { type: "global" }));
  vm.unwrapResult(vm.callFunction(prelude, vm.undefined, host)).dispose();
  prelude.dispose();
  host.dispose();
}

type Loaded = { value: QuickJSHandle } | { error: QuickJSHandle };

/**
 * Evaluates the source as a script and takes the global `entrypoint`. A source that uses
 * `export` fails to parse as a script and is evaluated again as a module, whose exported
 * `entrypoint` is taken.
 */
function loadEntrypoint(vm: QuickJSContext, source: string, runPendingJobs: () => unknown): Loaded {
  const script = vm.evalCode(source, "function.js", { type: "global" });
  if (script.error === undefined) {
    script.value.dispose();
    return entrypointOf(vm, vm.global);
  }
  const failure: unknown = vm.dump(script.error);
  const isExportError =
    typeof failure === "object" &&
    failure !== null &&
    (failure as { name?: unknown }).name === "SyntaxError" &&
    /\bexport\b/.test(source);
  if (!isExportError) return { error: script.error };
  script.error.dispose();

  const module = vm.evalCode(source, "function.js", { type: "module" });
  if (module.error !== undefined) return { error: module.error };
  let namespace = module.value;
  if (vm.typeof(namespace) === "object" && isPromise(vm, namespace)) {
    runPendingJobs();
    const state = vm.getPromiseState(namespace);
    namespace.dispose();
    if (state.type === "rejected") return { error: state.error };
    if (state.type === "pending") {
      return { error: vm.newError("the module did not finish evaluating") };
    }
    namespace = state.value;
  }
  const loaded = entrypointOf(vm, namespace);
  namespace.dispose();
  return loaded;
}

/**
 * Resolves the result of an async entrypoint by running the guest's pending jobs; other
 * values are returned as they are. With no timers or I/O in the guest, a promise that is
 * still pending afterwards can never settle.
 */
function settle(vm: QuickJSContext, value: QuickJSHandle, runPendingJobs: () => unknown): Loaded {
  if (vm.typeof(value) !== "object" || !isPromise(vm, value)) return { value };
  runPendingJobs();
  const state = vm.getPromiseState(value);
  value.dispose();
  if (state.type === "fulfilled") return { value: state.value };
  if (state.type === "rejected") return { error: state.error };
  return { error: vm.newError({ name: "TypeError", message: "the entrypoint never settled" }) };
}

function entrypointOf(vm: QuickJSContext, scope: QuickJSHandle): Loaded {
  const entrypoint = vm.getProp(scope, "entrypoint");
  if (vm.typeof(entrypoint) !== "function") {
    entrypoint.dispose();
    return {
      error: vm.newError({
        name: "TypeError",
        message: "the source does not define a function entrypoint(argv)",
      }),
    };
  }
  return { value: entrypoint };
}

function isPromise(vm: QuickJSContext, handle: QuickJSHandle): boolean {
  const promiseClass = vm.getProp(vm.global, "Promise");
  const result = vm.evalCode("(value, type) => value instanceof type", "check.js");
  const check = vm.unwrapResult(result);
  const answer = vm.unwrapResult(vm.callFunction(check, vm.undefined, handle, promiseClass));
  const isInstance = vm.dump(answer) === true;
  answer.dispose();
  check.dispose();
  promiseClass.dispose();
  return isInstance;
}

function summaryText(vm: QuickJSContext, handle: QuickJSHandle): string {
  const value: unknown = vm.dump(handle);
  handle.dispose();
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function decodeUtf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/**
 * Disposes a QuickJS object and ignores a failure: the instance is dropped after every run,
 * so a runtime that cannot be disposed cleanly is collected with its memory.
 */
function disposeQuietly(dispose: () => void): void {
  try {
    dispose();
  } catch {
    // The module and its memory become garbage with this run.
  }
}
