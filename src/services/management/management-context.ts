import type { Logger } from "../../common/logger.ts";
import { CloisterError } from "../../common/errors.ts";
import type { PlatformKey } from "../../security/platform-key.ts";
import { recordKeys } from "../../storage/records.ts";
import type { DataRecord, FunctionRecord, TaskRecord } from "../../storage/records.ts";
import type { AuditEntry, StorageBackend } from "../../storage/storage-backend.ts";
import { readRecord } from "../../storage/versioned.ts";
import type { Versioned } from "../../storage/versioned.ts";
import type { Caller } from "../caller.ts";
import type { WaitTaskLimits } from "./wait-task-limits.ts";

/** The storage, platform key and logger that every management operation uses. */
export interface ManagementContext {
  readonly storage: StorageBackend;
  readonly platformKey: PlatformKey;
  readonly logger: Logger;
  readonly waitTaskLimits: WaitTaskLimits;
}

export async function requireFunction(
  context: ManagementContext,
  functionId: string,
): Promise<Versioned<FunctionRecord>> {
  const record = await readRecord<FunctionRecord>(context.storage, recordKeys.function(functionId));
  if (record === undefined)
    throw new CloisterError("NOT_FOUND", `function ${functionId} not found`);
  return record;
}

export async function requireData(
  context: ManagementContext,
  dataId: string,
): Promise<Versioned<DataRecord>> {
  const record = await readRecord<DataRecord>(context.storage, recordKeys.data(dataId));
  if (record === undefined) throw new CloisterError("NOT_FOUND", `data ${dataId} not found`);
  return record;
}

export async function requireTask(
  context: ManagementContext,
  taskId: string,
): Promise<Versioned<TaskRecord>> {
  const record = await readRecord<TaskRecord>(context.storage, recordKeys.task(taskId));
  if (record === undefined) throw new CloisterError("NOT_FOUND", `task ${taskId} not found`);
  return record;
}

/** Builds the audit entry of a change that management makes on behalf of `caller`. */
export function auditEntry(caller: Caller | string, message: string): AuditEntry {
  return {
    microsecond: BigInt(Date.now()) * 1000n,
    ip: new Uint8Array(16),
    user: typeof caller === "string" ? caller : caller.userId,
    message,
    result: true,
  };
}

export function permissionDenied(reason: string): CloisterError {
  return new CloisterError("PERMISSION_DENIED", `permission denied: ${reason}`);
}
