import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireUnsignedInteger } from "./arguments.ts";
import { readTextInput, writeOutput } from "./text-input.ts";

const maxU32 = 0xffff_ffff;

/**
 * Parses `identity : amount` lines. Like Teaclave, it skips lines that are shorter than three
 * characters, lack exactly one `:`, or whose amount is not a u32, and a later line for the
 * same identity replaces an earlier one.
 */
export function parseAmounts(text: string): Map<string, number> {
  const amounts = new Map<string, number>();
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line.length < 3) continue;
    const parts = line.split(":");
    if (parts.length !== 2) continue;
    const identity = parts[0]!.trim();
    const amountText = parts[1]!.trim();
    if (!/^\+?[0-9]+$/.test(amountText)) continue;
    const amount = Number(amountText);
    if (amount > maxU32) continue;
    amounts.set(identity, amount);
  }
  return amounts;
}

/**
 * `builtin-private-join-and-compute`: each of `num_user` parties brings `input_data<i>`. The
 * function keeps the identities present in every input, sums their amounts and writes the same
 * `<identity>, <sum>` lines to every `output_data<i>`.
 */
export const privateJoinAndCompute: BuiltinFunction = {
  name: "builtin-private-join-and-compute",
  async run(args, runtime) {
    const userCount = requireUnsignedInteger(args, "num_user");
    if (userCount < 2) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "num_user" must be at least 2, got ${userCount}`,
      );
    }

    let sums = parseAmounts(await readTextInput(runtime, "input_data0"));
    for (let user = 1; user < userCount; user++) {
      const amounts = parseAmounts(await readTextInput(runtime, `input_data${user}`));
      const joined = new Map<string, number>();
      for (const [identity, sum] of sums) {
        const amount = amounts.get(identity);
        if (amount !== undefined) joined.set(identity, sum + amount);
      }
      sums = joined;
    }

    // NOTE: Teaclave sums in u32, which wraps in release builds; these sums are exact.
    // Teaclave writes the lines in HashMap order, so callers must not rely on any order; this
    // writes them in the order of input_data0.
    const text = [...sums].map(([identity, sum]) => `${identity}, ${sum}\n`).join("");
    for (let user = 0; user < userCount; user++) {
      await writeOutput(runtime, `output_data${user}`, text);
    }
    return `${userCount} users join the task in total.`;
  },
};
