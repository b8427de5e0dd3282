import { CloisterError } from "../common/errors.ts";
import { builtinFunctions } from "../functions/builtin/registry.ts";
import type { FunctionRuntime } from "../functions/runtime.ts";
import type { ExecutionOutcome, ExecutionRequest, Executor } from "./executor.ts";

/** Runs built-in functions in the executor's own thread; they are trusted platform code. */
export class BuiltinExecutor implements Executor {
  readonly name = "builtin";
  readonly executorType = "builtin";

  async execute(
    request: ExecutionRequest,
    runtime: FunctionRuntime,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const builtin = builtinFunctions.get(request.functionName);
    if (builtin === undefined) {
      throw new CloisterError(
        "NOT_FOUND",
        `function not available: no built-in function is named "${request.functionName}"`,
      );
    }
    signal.throwIfAborted();
    const summary = await builtin.run(request.arguments, runtime);
    return { summary, log: [] };
  }

  async close(): Promise<void> {}
}
