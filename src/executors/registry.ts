import { BuiltinExecutor } from "./builtin-executor.ts";
import type { Executor } from "./executor.ts";

/**
 * Creates one instance of every executor this build offers. The pair (function
 * `executor_type`, task `executor`) selects one; any other pair is "function not available".
 */
export function createExecutors(): Executor[] {
  return [new BuiltinExecutor()];
}
