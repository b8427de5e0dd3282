import type { BuiltinFunction } from "./builtin-function.ts";
import { echo } from "./echo.ts";

/** Every built-in function, by its exact Teaclave name. */
const builtins: readonly BuiltinFunction[] = [echo];

export const builtinFunctions: ReadonlyMap<string, BuiltinFunction> = new Map(
  builtins.map((builtin) => [builtin.name, builtin]),
);
