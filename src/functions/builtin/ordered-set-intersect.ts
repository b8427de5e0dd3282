import { CloisterError } from "../../common/errors.ts";
import type { FunctionRuntime } from "../runtime.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireString } from "./arguments.ts";
import { invalidInput, readTextInput, splitLines, writeOutput } from "./text-input.ts";

const hexLine = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Parses one input of hex-encoded hashes and checks that they are sorted by byte value. The
 * `Invalid ordering` prefix is the upstream Teaclave error text.
 */
async function readSortedHashes(
  runtime: FunctionRuntime,
  slot: string,
  ascending: boolean,
): Promise<Buffer[]> {
  const lines = splitLines(await readTextInput(runtime, slot));
  const hashes: Buffer[] = [];
  for (const [index, line] of lines.entries()) {
    if (!hexLine.test(line)) {
      throw invalidInput(slot, index + 1, "expected an even number of hexadecimal digits");
    }
    const hash = Buffer.from(line, "hex");
    const previous = hashes[index - 1];
    if (previous !== undefined) {
      const order = Buffer.compare(hash, previous);
      if ((ascending && order < 0) || (!ascending && order > 0)) {
        throw new CloisterError(
          "INVALID_ARGUMENT",
          `Invalid ordering: input "${slot}" line ${index + 1} is out of ` +
            `${ascending ? "ascending" : "descending"} byte order; sort the input first`,
        );
      }
    }
    hashes.push(hash);
  }
  return hashes;
}

/** Marks the items of two sorted lists that occur in both, with a two-pointer merge. */
export function intersectSorted(
  left: readonly Buffer[],
  right: readonly Buffer[],
  ascending: boolean,
): { left: Uint8Array; right: Uint8Array } {
  const leftMarks = new Uint8Array(left.length);
  const rightMarks = new Uint8Array(right.length);
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const order = Buffer.compare(left[i]!, right[j]!);
    if (order === 0) {
      leftMarks[i++] = 1;
      rightMarks[j++] = 1;
    } else if (order < 0 === ascending) {
      i++;
    } else {
      j++;
    }
  }
  return { left: leftMarks, right: rightMarks };
}

/**
 * `builtin-ordered-set-intersect`: private set intersection of two sorted lists of hex hashes.
 * Each output is a string of `0`/`1`, one character per line of the matching input, and `1`
 * marks a line found in the other input. The `order` values are Teaclave's, including the
 * misspelt "desending".
 */
export const orderedSetIntersect: BuiltinFunction = {
  name: "builtin-ordered-set-intersect",
  async run(args, runtime) {
    const order = requireString(args, "order");
    if (order !== "ascending" && order !== "desending") {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "order" must be "ascending" or "desending", got ${JSON.stringify(order)}`,
      );
    }
    const ascending = order === "ascending";
    const first = await readSortedHashes(runtime, "input_data1", ascending);
    const second = await readSortedHashes(runtime, "input_data2", ascending);
    const marks = intersectSorted(first, second, ascending);
    await writeOutput(runtime, "output_result1", marks.left.join(""));
    await writeOutput(runtime, "output_result2", marks.right.join(""));
    const common = marks.left.reduce((count, mark) => count + mark, 0);
    return `${common} common items`;
  },
};
