import { CloisterError } from "../../common/errors.ts";
import type { FunctionRuntime } from "../runtime.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Builds the INVALID_ARGUMENT error for malformed input data. The message names the slot and
 * the 1-based line but never quotes the data, because task failure reasons reach other parties.
 */
export function invalidInput(slot: string, line: number, problem: string): CloisterError {
  return new CloisterError("INVALID_ARGUMENT", `input "${slot}" line ${line}: ${problem}`);
}

/** Reads a whole input slot as UTF-8 text; invalid UTF-8 raises INVALID_ARGUMENT. */
export async function readTextInput(runtime: FunctionRuntime, slot: string): Promise<string> {
  const input = await runtime.openInput(slot);
  const bytes = await input.readAll();
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new CloisterError("INVALID_ARGUMENT", `input "${slot}" is not valid UTF-8 text`, {
      cause: error,
    });
  }
}

/**
 * Splits text into lines the way Rust's `BufRead::lines` does: on `\n`, dropping one `\r`
 * before it, with no empty last line after a final newline.
 */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

/** Writes `data` to a new output slot and closes it. */
export async function writeOutput(
  runtime: FunctionRuntime,
  slot: string,
  data: string | Uint8Array,
): Promise<void> {
  const output = await runtime.createOutput(slot);
  try {
    await output.write(data);
  } finally {
    await output.close();
  }
}
