import { invalidInput } from "./text-input.ts";

/** One parsed CSV record with the 1-based line on which it starts. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Parses header-less CSV the way Rust's `csv` crate reads it by default. Fields are
 * comma-separated and may be quoted with `"`, where `""` is an escaped quote. Lines end with
 * `\n` or `\r\n`, blank lines are skipped, and all records must have the same field count.
 */
export function parseCsv(text: string, slot: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let fieldStarted = false;

  const endRecord = (): void => {
    if (fieldStarted || fields.length > 0) {
      fields.push(field);
      const expected = records[0]?.fields.length;
      if (expected !== undefined && fields.length !== expected) {
        throw invalidInput(
          slot,
          recordLine,
          `expected ${expected} fields like line ${records[0]!.line}, found ${fields.length}`,
        );
      }
      records.push({ line: recordLine, fields });
    }
    fields = [];
    field = "";
    fieldStarted = false;
  };

  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        if (char === "\n") line++;
        field += char;
      }
    } else if (char === '"' && field === "") {
      quoted = true;
      fieldStarted = true;
    } else if (char === ",") {
      fields.push(field);
      field = "";
      fieldStarted = true;
    } else if (char === "\n" || char === "\r") {
      endRecord();
      if (char === "\r" && text[i + 1] === "\n") i++;
      line++;
      recordLine = line;
    } else {
      field += char;
      fieldStarted = true;
    }
  }
  if (quoted) throw invalidInput(slot, recordLine, "a quoted field is not closed");
  endRecord();
  return records;
}

/** Formats one CSV record, quoting only the fields that need it, and ends it with `\n`. */
export function formatCsvRecord(fields: readonly string[]): string {
  const formatted = fields.map((field) =>
    /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field,
  );
  if (formatted.length === 1 && formatted[0] === "") return '""\n';
  return formatted.join(",") + "\n";
}
