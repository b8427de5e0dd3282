import { BuiltinExecutor } from "./builtin-executor.ts";
import type { Executor } from "./executor.ts";
import { JavaScriptExecutor } from "./javascript/javascript-executor.ts";
import { MesapyExecutor } from "./python/python-executor.ts";
import { WasmExecutor } from "./wasm/wasm-executor.ts";

/**
 * Creates one instance of every executor this build offers. The pair (function
 * `executor_type`, task `executor`) selects one; any other pair is "function not available".
 */
export function createExecutors(): Executor[] {
  // The sandboxed executors start their workers and interpreters on their first run.
  return [
    new BuiltinExecutor(),
    new MesapyExecutor(),
    new WasmExecutor(),
    new JavaScriptExecutor(),
  ];
}
