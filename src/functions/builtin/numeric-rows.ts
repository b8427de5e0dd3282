import { CloisterError } from "../../common/errors.ts";
import { invalidInput, splitLines } from "./text-input.ts";

/** Rust's `str::parse::<f64>()` grammar for finite values: `1`, `-2.5`, `.5`, `3.`, `1e-3`. */
const rustFloat = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Options of `parseNumericRows`. */
export interface NumericRowsOptions {
  /** Input slot, named in error messages. */
  readonly slot: string;
  /** Required number of values per row; undefined accepts any count shared by every row. */
  readonly columns?: number;
  /** Describes the expected columns in errors, for example "4 features and a label". */
  readonly columnsDescription?: string;
  /** Rounds every value to f32 (`Math.fround`), as code that parses `f32` in Rust does. */
  readonly float32?: boolean;
}

/**
 * Parses text of comma-separated numbers, one row per line, as Teaclave's ML built-ins read
 * their inputs. Surrounding whitespace is trimmed from lines and values. An empty input, an
 * empty line, a wrong value count or a value that is not a finite number raises
 * INVALID_ARGUMENT with the slot and the 1-based line, without quoting the data.
 */
export function parseNumericRows(text: string, options: NumericRowsOptions): number[][] {
  const { slot } = options;
  const lines = splitLines(text);
  if (lines.length === 0) {
    throw new CloisterError("INVALID_ARGUMENT", `input "${slot}" is empty; it needs data rows`);
  }
  const rows: number[][] = [];
  let expected = options.columns;
  for (const [index, line] of lines.entries()) {
    const lineNumber = index + 1;
    const trimmed = line.trim();
    if (trimmed === "") throw invalidInput(slot, lineNumber, "is empty; remove blank lines");
    const fields = trimmed.split(",");
    if (expected !== undefined && fields.length !== expected) {
      const description = options.columnsDescription ?? `${expected} values`;
      throw invalidInput(
        slot,
        lineNumber,
        `expected ${expected} comma-separated values (${description}), found ${fields.length}`,
      );
    }
    expected = fields.length;
    const row = fields.map((field, column) => {
      const value = field.trim();
      if (!rustFloat.test(value)) {
        throw invalidInput(slot, lineNumber, `value ${column + 1} is not a finite number`);
      }
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) {
        throw invalidInput(slot, lineNumber, `value ${column + 1} is not a finite number`);
      }
      // NOTE: Math.fround(Number(text)) rounds twice (to f64, then f32). Rust parses straight to
      // f32, so a decimal that falls almost exactly between two f32 values may differ by one ulp.
      return options.float32 === true ? Math.fround(parsed) : parsed;
    });
    rows.push(row);
  }
  return rows;
}
