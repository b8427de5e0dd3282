import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireBoolean, requireUnsignedInteger } from "./arguments.ts";
import { formatCsvRecord, parseCsv } from "./csv.ts";
import type { CsvRecord } from "./csv.ts";
import { invalidInput, readTextInput, writeOutput } from "./text-input.ts";

function joinKey(record: CsvRecord, column: number, slot: string): string {
  const key = record.fields[column];
  if (key === undefined) {
    throw invalidInput(slot, record.line, `has no column ${column} to join on`);
  }
  return key;
}

function withoutColumn(fields: readonly string[], column: number): string[] {
  return fields.filter((_, index) => index !== column);
}

/** Compares two strings by their UTF-8 bytes, as Rust's `str::cmp` does. */
function compareUtf8(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, "utf8"), Buffer.from(right, "utf8"));
}

/**
 * `builtin-ordered-set-join`: merge join of two header-less CSV inputs sorted on their join
 * columns (compared as strings). Each match writes the left record, without its join column
 * when `drop` is true, followed by the right record without its join column. The merge stops
 * at the end of either input.
 */
export const orderedSetJoin: BuiltinFunction = {
  name: "builtin-ordered-set-join",
  async run(args, runtime) {
    const leftColumn = requireUnsignedInteger(args, "left_column");
    const rightColumn = requireUnsignedInteger(args, "right_column");
    const ascending = requireBoolean(args, "ascending");
    const drop = requireBoolean(args, "drop");

    const left = parseCsv(await readTextInput(runtime, "input_data1"), "input_data1");
    const right = parseCsv(await readTextInput(runtime, "input_data2"), "input_data2");
    if (left.length === 0)
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `input "input_data1" is empty, so there is nothing to join`,
      );
    if (right.length === 0)
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `input "input_data2" is empty, so there is nothing to join`,
      );

    let output = "";
    let count = 0;
    let i = 0;
    let j = 0;
    while (i < left.length && j < right.length) {
      const leftRecord = left[i]!;
      const rightRecord = right[j]!;
      const order = compareUtf8(
        joinKey(leftRecord, leftColumn, "input_data1"),
        joinKey(rightRecord, rightColumn, "input_data2"),
      );
      if (order === 0) {
        const leftFields = drop ? withoutColumn(leftRecord.fields, leftColumn) : leftRecord.fields;
        output += formatCsvRecord([
          ...leftFields,
          ...withoutColumn(rightRecord.fields, rightColumn),
        ]);
        count++;
        i++;
        j++;
      } else if (order < 0 === ascending) {
        i++;
      } else {
        j++;
      }
    }
    await writeOutput(runtime, "output_result", output);
    return `${count} records`;
  },
};
