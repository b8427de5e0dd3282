import type { FunctionRuntime } from "../runtime.ts";

/** A built-in function: takes the task's argument object and its files, returns the summary. */
export interface BuiltinFunction {
  /** The exact Teaclave name, for example `builtin-echo`. */
  readonly name: string;
  run(args: Readonly<Record<string, unknown>>, runtime: FunctionRuntime): Promise<string>;
}
