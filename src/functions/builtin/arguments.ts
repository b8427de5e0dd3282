import { CloisterError } from "../../common/errors.ts";

/**
 * Readers for built-in function arguments. Teaclave fills defaults as JSON strings, so numeric
 * and boolean readers also accept their text forms ("10", "true").
 */

function missing(name: string): CloisterError {
  return new CloisterError("INVALID_ARGUMENT", `missing argument "${name}"`);
}

export function requireString(args: Readonly<Record<string, unknown>>, name: string): string {
  const value = args[name];
  if (value === undefined) throw missing(name);
  if (typeof value !== "string") {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${name}" must be a string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function requireNumber(args: Readonly<Record<string, unknown>>, name: string): number {
  const value = args[name];
  if (value === undefined) throw missing(name);
  const parsed = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isFinite(parsed)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${name}" must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** Reads a non-negative integer argument (Rust `usize`/`u32` in Teaclave). */
export function requireUnsignedInteger(
  args: Readonly<Record<string, unknown>>,
  name: string,
): number {
  const value = requireNumber(args, name);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${name}" must be a non-negative integer, got ${JSON.stringify(args[name])}`,
    );
  }
  return value;
}

export function requireBoolean(args: Readonly<Record<string, unknown>>, name: string): boolean {
  const value = args[name];
  if (value === undefined) throw missing(name);
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new CloisterError(
    "INVALID_ARGUMENT",
    `argument "${name}" must be true or false, got ${JSON.stringify(value)}`,
  );
}
