import type { BuiltinFunction } from "./builtin-function.ts";
import { requireString } from "./arguments.ts";

/** `builtin-echo`: returns the `message` argument. */
export const echo: BuiltinFunction = {
  name: "builtin-echo",
  async run(args) {
    return requireString(args, "message");
  },
};
