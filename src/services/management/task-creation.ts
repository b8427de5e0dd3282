import { createHash } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import type { OwnerList } from "../../gen/teaclave_frontend_service_pb.ts";
import type { FunctionRecord, FunctionSlotRecord } from "../../storage/records.ts";
import { executorForType } from "./function-validation.ts";

/**
 * The creation-time checks of a task (Teaclave's rules): exact argument keys with defaults
 * filled in, exact slot sets, and a valid executor for the function's type.
 */

/** Deepest nesting of arrays and objects that an argument value may have. */
const maxArgumentDepth = 32;

/** Nesting depth of a parsed JSON value, without recursion so that no input can overflow. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== "object" || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > maxArgumentDepth) return deepest;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** Parses `function_arguments` and fills in the arguments that callers may not overwrite. */
export function resolveArguments(
  fn: FunctionRecord,
  argumentsJson: string,
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = argumentsJson.trim() === "" ? {} : JSON.parse(argumentsJson);
  } catch {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      'function_arguments is not valid JSON: pass a JSON object such as {"message": "hi"}',
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CloisterError("INVALID_ARGUMENT", "function_arguments must be a JSON object");
  }
  if (nestingDepth(parsed) > maxArgumentDepth) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `function_arguments nests deeper than ${maxArgumentDepth} levels: flatten the values`,
    );
  }
  const requestedKeys = Object.keys(parsed);
  const overwritable = fn.arguments.filter((argument) => argument.allowOverwrite).map((a) => a.key);
  const unknown = requestedKeys.filter((key) => !overwritable.includes(key));
  const missing = overwritable.filter((key) => !requestedKeys.includes(key));
  if (unknown.length > 0 || missing.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing ${missing.join(", ")}`);
    if (unknown.length > 0) parts.push(`not accepted: ${unknown.join(", ")}`);
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `function_arguments must set exactly the overwritable arguments ` +
        `[${overwritable.join(", ")}]: ${parts.join("; ")}`,
    );
  }
  const resolved: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
  for (const argument of fn.arguments) {
    if (!argument.allowOverwrite) resolved[argument.key] = argument.defaultValue;
  }
  return Object.fromEntries(Object.entries(resolved).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Checks that the ownership list names every required slot and only declared ones. */
export function resolveOwnership(
  kind: "input" | "output",
  slots: readonly FunctionSlotRecord[],
  ownership: readonly OwnerList[],
): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const entry of ownership) {
    if (!slots.some((slot) => slot.name === entry.dataName)) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `the function has no ${kind} named ${JSON.stringify(entry.dataName)}; its ${kind}s are ` +
          `[${slots.map((slot) => slot.name).join(", ")}]`,
      );
    }
    if (result[entry.dataName] !== undefined) {
      throw new CloisterError("INVALID_ARGUMENT", `${kind} ${entry.dataName} is listed twice`);
    }
    const owners = [...new Set(entry.uids)];
    if (owners.length === 0 || owners.some((uid) => uid === "")) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `${kind} ${entry.dataName} needs at least one owner uid`,
      );
    }
    result[entry.dataName] = owners.sort();
  }
  const missing = slots.filter((slot) => !slot.optional && result[slot.name] === undefined);
  if (missing.length > 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `${kind}s_ownership is missing the required ${kind}s ` +
        `[${missing.map((slot) => slot.name).join(", ")}]`,
    );
  }
  return result;
}

/** Checks the task's executor against the function's executor type. */
export function checkExecutor(fn: FunctionRecord, executor: string): void {
  const expected = executorForType[fn.executorType];
  if (executor !== expected) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `function not available with executor ${JSON.stringify(executor)}: ` +
        `a ${fn.executorType} function runs on the ${expected ?? "(none)"} executor`,
    );
  }
}

/**
 * Digest of everything in a function that decides what a task computes. Parties approve a
 * task for the function as it was at creation; invoke refuses to run a changed one.
 */
export function functionDigest(fn: FunctionRecord): string {
  const definition = {
    name: fn.name,
    executorType: fn.executorType,
    payload: fn.payload,
    arguments: fn.arguments,
    inputs: fn.inputs,
    outputs: fn.outputs,
  };
  return createHash("sha256").update(JSON.stringify(definition)).digest("hex");
}
