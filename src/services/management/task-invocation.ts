import { CloisterError } from "../../common/errors.ts";
import { parseId } from "../../common/ids.ts";
import type { FileCrypto } from "../../files/file-crypto.ts";
import { TaskStatus } from "../../gen/teaclave_common_pb.ts";
import { recordKeys, stagedTaskQueue } from "../../storage/records.ts";
import type { TaskRecord, UsageRecord } from "../../storage/records.ts";
import { readRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import type { Caller } from "../caller.ts";
import { sealStagedTask } from "../staged-task.ts";
import type { StagedCrypto, StagedTask, StagedTaskMessage } from "../staged-task.ts";
import type { ManagementContext } from "./management-context.ts";
import {
  auditEntry,
  permissionDenied,
  requireData,
  requireFunction,
  requireTask,
} from "./management-context.ts";
import { dataUuid, unsealFileCrypto } from "./sealed-crypto.ts";
import { functionDigest } from "./task-creation.ts";
import { advanceTask, missingApprovals, statusName, unassignedSlots } from "./task-progress.ts";

function toStagedCrypto(crypto: FileCrypto): StagedCrypto {
  return {
    schema: crypto.schema,
    key: "key" in crypto ? Buffer.from(crypto.key).toString("hex") : "",
    iv: "iv" in crypto ? Buffer.from(crypto.iv).toString("hex") : "",
  };
}

/**
 * Invokes a task: the creator only, once every slot has data and every participant has
 * approved (a task with a single participant needs no approval). Checks and counts the
 * function's usage quota, then stages the task for an executor in one transaction.
 */
export async function invokeTask(
  context: ManagementContext,
  caller: Caller,
  taskId: string,
): Promise<void> {
  parseId(taskId, "task", "task_id");
  await retryOnConflict(async () => {
    const current = await requireTask(context, taskId);
    const task = current.value;
    if (task.creator !== caller.userId) {
      throw permissionDenied(`only the creator may invoke task ${taskId}`);
    }
    if (task.status > TaskStatus.Approved) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${taskId} is ${statusName(task.status)}: it can be invoked only once`,
      );
    }
    const unassigned = unassignedSlots(task);
    if (unassigned.length > 0) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${taskId} is not ready: assign data to [${unassigned.join(", ")}] first`,
      );
    }
    const waiting = missingApprovals(task);
    if (task.participants.length > 1 && waiting.length > 0) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${taskId} still needs the approval of [${waiting.join(", ")}]`,
      );
    }
    const fn = await requireFunction(context, task.functionId);
    if (fn.value.disabled) {
      throw new CloisterError("FAILED_PRECONDITION", `function ${fn.value.id} is disabled`);
    }
    if (functionDigest(fn.value) !== task.functionDigest) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `function ${fn.value.id} changed after task ${taskId} was created: create a new task ` +
          "so that every party approves the new code",
      );
    }
    const usage = await readRecord<UsageRecord>(context.storage, recordKeys.usage(task.functionId));
    const useCount = usage?.value.useCount ?? 0;
    if (fn.value.usageQuota !== null && useCount >= fn.value.usageQuota) {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `function ${fn.value.id} has used its quota of ${fn.value.usageQuota} invocations`,
      );
    }
    const staged = await buildStagedTask(
      context,
      task,
      fn.value.executorType,
      fn.value.name,
      fn.value.payload,
    );
    const message: StagedTaskMessage = {
      taskId,
      sealed: sealStagedTask(context.platformKey, staged),
    };
    const ready = advanceTask({
      ...task,
      approvedUsers: task.participants.length === 1 ? [...task.participants] : task.approvedUsers,
    });
    const next: TaskRecord = { ...ready, status: TaskStatus.Staged, updatedAtMs: Date.now() };
    await context.storage.commit({
      writes: [
        writeRecord(recordKeys.task(taskId), next, current),
        writeRecord(
          recordKeys.usage(task.functionId),
          { functionId: task.functionId, useCount: useCount + 1 },
          usage,
        ),
      ],
      enqueue: [{ queue: stagedTaskQueue(task.executor), value: JSON.stringify(message) }],
      audit: [auditEntry(caller, `invoke task ${taskId}`)],
    });
  });
}

async function buildStagedTask(
  context: ManagementContext,
  task: TaskRecord,
  executorType: string,
  functionName: string,
  payload: string,
): Promise<StagedTask> {
  const inputs: Record<string, StagedTask["inputs"][string]> = {};
  for (const [slot, dataId] of Object.entries(task.assignedInputs)) {
    const { value } = await requireData(context, dataId);
    const crypto = unsealFileCrypto(context.platformKey, dataUuid(dataId), value.sealedCrypto);
    inputs[slot] = { url: value.url, cmac: value.cmac ?? "", crypto: toStagedCrypto(crypto) };
  }
  const outputs: Record<string, StagedTask["outputs"][string]> = {};
  for (const [slot, dataId] of Object.entries(task.assignedOutputs)) {
    const { value } = await requireData(context, dataId);
    const crypto = unsealFileCrypto(context.platformKey, dataUuid(dataId), value.sealedCrypto);
    outputs[slot] = { url: value.url, crypto: toStagedCrypto(crypto) };
  }
  return {
    taskId: task.id,
    functionId: task.functionId,
    creator: task.creator,
    executor: task.executor,
    executorType,
    functionName,
    functionArguments: JSON.stringify(task.functionArguments),
    payload,
    inputs,
    outputs,
  };
}
