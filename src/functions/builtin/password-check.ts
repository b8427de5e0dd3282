import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { readTextInput, splitLines } from "./text-input.ts";

/**
 * `builtin-password-check`: checks whether the first line of `password` occurs among the lines
 * of `exposed_passwords`, both trimmed of surrounding whitespace. Returns `"true"` or `"false"`.
 */
export const passwordCheck: BuiltinFunction = {
  name: "builtin-password-check",
  async run(_args, runtime) {
    const firstLine = splitLines(await readTextInput(runtime, "password"))[0];
    if (firstLine === undefined) {
      throw new CloisterError("INVALID_ARGUMENT", `input "password" is empty`);
    }
    const password = firstLine.trim();
    const exposed = new Set(
      splitLines(await readTextInput(runtime, "exposed_passwords")).map((line) => line.trim()),
    );
    return exposed.has(password) ? "true" : "false";
  },
};
