import { CloisterError } from "../../common/errors.ts";
import { newId, parseId } from "../../common/ids.ts";
import { recordKeys } from "../../storage/records.ts";
import type { FunctionRecord, UsageRecord } from "../../storage/records.ts";
import { deleteRecord, readRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import type { Caller } from "../caller.ts";
import type { FunctionDefinition } from "./function-validation.ts";
import { validateFunctionDefinition } from "./function-validation.ts";
import type { ManagementContext } from "./management-context.ts";
import { auditEntry, permissionDenied, requireFunction } from "./management-context.ts";

/** A function record as GetFunction shows it. Allow-listed users see no payload or allowlist. */
export interface FunctionView {
  readonly record: FunctionRecord;
  readonly redacted: boolean;
}

export async function registerFunction(
  context: ManagementContext,
  caller: Caller,
  definition: FunctionDefinition,
): Promise<string> {
  const fields = validateFunctionDefinition(definition);
  const id = newId("function");
  const record: FunctionRecord = { ...fields, id, owner: caller.userId, disabled: false };
  const usage: UsageRecord = { functionId: id, useCount: 0 };
  await context.storage.commit({
    writes: [
      writeRecord(recordKeys.function(id), record),
      writeRecord(recordKeys.usage(id), usage),
    ],
    audit: [auditEntry(caller, `register function ${id}`)],
  });
  return id;
}

/** Replaces every field of a function and keeps its id; owner only. */
export async function updateFunction(
  context: ManagementContext,
  caller: Caller,
  functionId: string,
  definition: FunctionDefinition,
): Promise<string> {
  parseId(functionId, "function", "function_id");
  const fields = validateFunctionDefinition(definition);
  await retryOnConflict(async () => {
    const current = await requireFunction(context, functionId);
    if (current.value.owner !== caller.userId) {
      throw permissionDenied(`only the owner may update function ${functionId}`);
    }
    const next: FunctionRecord = { ...current.value, ...fields };
    await context.storage.commit({
      writes: [writeRecord(recordKeys.function(functionId), next, current)],
      audit: [auditEntry(caller, `update function ${functionId}`)],
    });
  });
  return functionId;
}

export async function getFunction(
  context: ManagementContext,
  caller: Caller,
  functionId: string,
): Promise<FunctionView> {
  parseId(functionId, "function", "function_id");
  const { value } = await requireFunction(context, functionId);
  if (value.public || caller.role.kind === "PlatformAdmin" || value.owner === caller.userId) {
    return { record: value, redacted: false };
  }
  if (value.userAllowlist.includes(caller.userId)) return { record: value, redacted: true };
  throw permissionDenied(`function ${functionId} is private`);
}

export async function getFunctionUsageStats(
  context: ManagementContext,
  caller: Caller,
  functionId: string,
): Promise<{ functionQuota: number; currentUsage: number }> {
  parseId(functionId, "function", "function_id");
  const { value } = await requireFunction(context, functionId);
  const allowed =
    value.public ||
    caller.role.kind === "PlatformAdmin" ||
    value.owner === caller.userId ||
    value.userAllowlist.includes(caller.userId);
  if (!allowed) throw permissionDenied(`function ${functionId} is private`);
  const usage = await readRecord<UsageRecord>(context.storage, recordKeys.usage(functionId));
  return { functionQuota: value.usageQuota ?? -1, currentUsage: usage?.value.useCount ?? 0 };
}

export async function deleteFunction(
  context: ManagementContext,
  caller: Caller,
  functionId: string,
): Promise<void> {
  parseId(functionId, "function", "function_id");
  await retryOnConflict(async () => {
    const current = await requireFunction(context, functionId);
    if (current.value.owner !== caller.userId) {
      throw permissionDenied(`only the owner may delete function ${functionId}`);
    }
    const usage = await readRecord<UsageRecord>(context.storage, recordKeys.usage(functionId));
    await context.storage.commit({
      writes: [
        deleteRecord(recordKeys.function(functionId), current),
        ...(usage === undefined ? [] : [deleteRecord(recordKeys.usage(functionId), usage)]),
      ],
      audit: [auditEntry(caller, `delete function ${functionId}`)],
    });
  });
}

/**
 * Disables a function: it stays readable, but no new task may use it, public or not
 * (Teaclave still accepted tasks for a disabled public function).
 */
export async function disableFunction(
  context: ManagementContext,
  caller: Caller,
  functionId: string,
): Promise<void> {
  parseId(functionId, "function", "function_id");
  await retryOnConflict(async () => {
    const current = await requireFunction(context, functionId);
    if (current.value.owner !== caller.userId && caller.role.kind !== "PlatformAdmin") {
      throw permissionDenied(`only the owner or a PlatformAdmin may disable ${functionId}`);
    }
    const next: FunctionRecord = { ...current.value, disabled: true, userAllowlist: [] };
    await context.storage.commit({
      writes: [writeRecord(recordKeys.function(functionId), next, current)],
      audit: [auditEntry(caller, `disable function ${functionId}`)],
    });
  });
}

/**
 * Lists the enabled functions a user owns and those allow-listed for it. A PlatformAdmin
 * listing itself gets every function as allowed, as in Teaclave.
 */
export async function listFunctions(
  context: ManagementContext,
  caller: Caller,
  userId: string,
): Promise<{ registeredFunctions: string[]; allowedFunctions: string[] }> {
  const target = userId === "" ? caller.userId : userId;
  if (target !== caller.userId && caller.role.kind !== "PlatformAdmin") {
    throw permissionDenied("you may list only your own functions");
  }
  if (target.length > 128) {
    throw new CloisterError("INVALID_ARGUMENT", "user_id is longer than 128 characters");
  }
  const functions = (await context.storage.list("functions/")).map(
    (stored) => JSON.parse(stored.value) as FunctionRecord,
  );
  const enabled = functions.filter((record) => !record.disabled);
  const everything = caller.role.kind === "PlatformAdmin" && target === caller.userId;
  return {
    registeredFunctions: enabled.filter((record) => record.owner === target).map((r) => r.id),
    allowedFunctions: (everything
      ? functions
      : enabled.filter((record) => record.userAllowlist.includes(target))
    ).map((record) => record.id),
  };
}
