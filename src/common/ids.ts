import { randomUUID } from "node:crypto";
import { CloisterError } from "./errors.ts";

/** Record kinds with external ids of the form `<prefix>-<uuid v4>`, as Teaclave's. */
export type IdPrefix = "input" | "output" | "function" | "task";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID()}`;
}

/** Returns the uuid part of `id`, checking that the id has the expected prefix. */
export function parseId(id: string, expected: IdPrefix, field: string): string {
  const separator = id.indexOf("-");
  const prefix = separator < 0 ? "" : id.slice(0, separator);
  const uuid = id.slice(separator + 1);
  if (id === "") {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `${field} is missing: pass a ${expected}-<uuid> id`,
    );
  }
  if (prefix !== expected || !uuidPattern.test(uuid)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid ${field} ${JSON.stringify(id.slice(0, 80))}: expected ${expected}-<uuid>`,
    );
  }
  return uuid;
}

/** Parses a data id that may name an input or an output file. */
export function parseDataId(id: string, field: string): { kind: "input" | "output"; id: string } {
  if (id.startsWith("input-")) {
    parseId(id, "input", field);
    return { kind: "input", id };
  }
  parseId(id, "output", field);
  return { kind: "output", id };
}
