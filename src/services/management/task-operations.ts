import { CloisterError } from "../../common/errors.ts";
import { newId, parseDataId, parseId } from "../../common/ids.ts";
import { TaskStatus } from "../../gen/teaclave_common_pb.ts";
import type { DataMap, OwnerList } from "../../gen/teaclave_frontend_service_pb.ts";
import { recordKeys } from "../../storage/records.ts";
import type { DataRecord, TaskRecord } from "../../storage/records.ts";
import type { RecordWrite } from "../../storage/storage-backend.ts";
import { deleteRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import type { Versioned } from "../../storage/versioned.ts";
import type { Caller } from "../caller.ts";
import type { ManagementContext } from "./management-context.ts";
import {
  auditEntry,
  permissionDenied,
  requireData,
  requireFunction,
  requireTask,
} from "./management-context.ts";
import {
  checkExecutor,
  functionDigest,
  resolveArguments,
  resolveOwnership,
} from "./task-creation.ts";
import { advanceTask, isTerminal, statusName } from "./task-progress.ts";

export async function createTask(
  context: ManagementContext,
  caller: Caller,
  request: {
    functionId: string;
    functionArguments: string;
    executor: string;
    inputsOwnership: OwnerList[];
    outputsOwnership: OwnerList[];
  },
): Promise<string> {
  parseId(request.functionId, "function", "function_id");
  const { value: fn } = await requireFunction(context, request.functionId);
  if (fn.disabled) {
    throw new CloisterError("FAILED_PRECONDITION", `function ${fn.id} is disabled`);
  }
  const mayUse =
    caller.role.kind === "PlatformAdmin" || fn.public || fn.userAllowlist.includes(caller.userId);
  if (!mayUse) throw permissionDenied(`function ${fn.id} is private and you are not allow-listed`);
  checkExecutor(fn, request.executor);
  const functionArguments = resolveArguments(fn, request.functionArguments);
  const inputsOwnership = resolveOwnership("input", fn.inputs, request.inputsOwnership);
  const outputsOwnership = resolveOwnership("output", fn.outputs, request.outputsOwnership);
  const participants = new Set([caller.userId]);
  for (const owners of [...Object.values(inputsOwnership), ...Object.values(outputsOwnership)]) {
    for (const owner of owners) participants.add(owner);
  }
  if (!fn.public) participants.add(fn.owner);
  const id = newId("task");
  const task: TaskRecord = {
    id,
    creator: caller.userId,
    functionId: fn.id,
    functionOwner: fn.owner,
    functionDigest: functionDigest(fn),
    functionArguments,
    executor: request.executor,
    inputsOwnership,
    outputsOwnership,
    participants: [...participants].sort(),
    approvedUsers: [],
    assignedInputs: {},
    assignedOutputs: {},
    status: TaskStatus.Created,
    result: null,
    executorId: null,
    cancelRequested: false,
    updatedAtMs: Date.now(),
  };
  await context.storage.commit({
    writes: [writeRecord(recordKeys.task(id), task)],
    audit: [auditEntry(caller, `create task ${id}`)],
  });
  return id;
}

export async function getTask(
  context: ManagementContext,
  caller: Caller,
  taskId: string,
): Promise<TaskRecord> {
  parseId(taskId, "task", "task_id");
  const { value } = await requireTask(context, taskId);
  if (!value.participants.includes(caller.userId)) {
    throw permissionDenied(`you are not a participant of task ${taskId}`);
  }
  return value;
}

const maxWaitMs = 30_000;

/**
 * Returns the task once it has ended or `timeoutMs` has passed. A commit to the task in this
 * process wakes it at once. It also re-reads storage at growing intervals, from 2 ms up to
 * the configured maximum, because a scheduler in another process may record the end. Each
 * user may have a limited number of waits open.
 */
export async function waitTask(
  context: ManagementContext,
  caller: Caller,
  taskId: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<TaskRecord> {
  const deadline = Date.now() + (timeoutMs <= 0 || timeoutMs > maxWaitMs ? maxWaitMs : timeoutMs);
  const key = recordKeys.task(taskId);
  const { maxPollIntervalMs } = context.waitTaskLimits.settings;
  let task = await getTask(context, caller, taskId);
  if (isTerminal(task.status)) return task;
  const leave = context.waitTaskLimits.enter(caller.userId);
  try {
    let intervalMs = 2;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal.aborted) return task;
      await context.storage.watch(key, Math.min(intervalMs, remaining), signal);
      intervalMs = Math.min(intervalMs * 1.5, maxPollIntervalMs);
      task = await getTask(context, caller, taskId);
      if (isTerminal(task.status)) return task;
    }
  } finally {
    leave();
  }
}

/**
 * Assigns registered files to the task's slots. The caller must own each file, the file's
 * owners must equal the owners declared for the slot, and each slot is assigned once. An
 * output file may serve one task only, so that no key and IV pair ever encrypts twice.
 */
export async function assignData(
  context: ManagementContext,
  caller: Caller,
  request: { taskId: string; inputs: DataMap[]; outputs: DataMap[] },
): Promise<void> {
  parseId(request.taskId, "task", "task_id");
  await retryOnConflict(async () => {
    const current = await requireTask(context, request.taskId);
    const task = current.value;
    if (!task.participants.includes(caller.userId)) {
      throw permissionDenied(`you are not a participant of task ${task.id}`);
    }
    if (task.status !== TaskStatus.Created) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${task.id} is ${statusName(task.status)}: data can be assigned only while it is Created`,
      );
    }
    const assignedInputs = { ...task.assignedInputs };
    const assignedOutputs = { ...task.assignedOutputs };
    const dataWrites: RecordWrite[] = [];
    const seen = new Set<string>();
    for (const [kind, maps, declared, assigned] of [
      ["input", request.inputs, task.inputsOwnership, assignedInputs],
      ["output", request.outputs, task.outputsOwnership, assignedOutputs],
    ] as const) {
      for (const map of maps) {
        const data = await checkAssignment(context, caller, task, kind, map, declared, assigned);
        if (seen.has(map.dataId)) {
          throw new CloisterError("INVALID_ARGUMENT", `data ${map.dataId} is assigned twice`);
        }
        seen.add(map.dataId);
        assigned[map.dataName] = map.dataId;
        if (kind === "output") {
          dataWrites.push(
            writeRecord(recordKeys.data(map.dataId), { ...data.value, taskId: task.id }, data),
          );
        }
      }
    }
    const next = advanceTask({ ...task, assignedInputs, assignedOutputs, updatedAtMs: Date.now() });
    await context.storage.commit({
      writes: [writeRecord(recordKeys.task(task.id), next, current), ...dataWrites],
      audit: [auditEntry(caller, `assign data to task ${task.id}`)],
    });
  });
}

async function checkAssignment(
  context: ManagementContext,
  caller: Caller,
  task: TaskRecord,
  kind: "input" | "output",
  map: DataMap,
  declared: Readonly<Record<string, readonly string[]>>,
  assigned: Readonly<Record<string, string>>,
): Promise<Versioned<DataRecord>> {
  const owners = declared[map.dataName];
  if (owners === undefined) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `task ${task.id} has no ${kind} slot named ${JSON.stringify(map.dataName)}`,
    );
  }
  if (assigned[map.dataName] !== undefined) {
    throw new CloisterError(
      "ALREADY_EXISTS",
      `${kind} slot ${map.dataName} of task ${task.id} is already assigned`,
    );
  }
  if (parseDataId(map.dataId, "data_id").kind !== kind) {
    throw new CloisterError("INVALID_ARGUMENT", `data ${map.dataId} is not an ${kind} file`);
  }
  const data = await requireData(context, map.dataId);
  if (!data.value.owners.includes(caller.userId)) {
    throw permissionDenied(`you are not an owner of ${map.dataId}`);
  }
  const sameOwners =
    data.value.owners.length === owners.length &&
    owners.every((owner) => data.value.owners.includes(owner));
  if (!sameOwners) {
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `the owners of ${map.dataId} [${data.value.owners.join(", ")}] differ from those declared ` +
        `for slot ${map.dataName} [${owners.join(", ")}]`,
    );
  }
  if (kind === "output" && (data.value.cmac !== null || data.value.taskId !== null)) {
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `output ${map.dataId} is already used by a task: register a new output file with a ` +
        "fresh key and IV",
    );
  }
  return data;
}

export async function approveTask(
  context: ManagementContext,
  caller: Caller,
  taskId: string,
): Promise<void> {
  parseId(taskId, "task", "task_id");
  await retryOnConflict(async () => {
    const current = await requireTask(context, taskId);
    const task = current.value;
    if (!task.participants.includes(caller.userId)) {
      throw permissionDenied(`you are not a participant of task ${taskId}`);
    }
    const ready = advanceTask(task);
    if (ready.status !== TaskStatus.DataAssigned && ready.status !== TaskStatus.Approved) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${taskId} is ${statusName(task.status)}: it can be approved once all its data is ` +
          "assigned and before it is invoked",
      );
    }
    const approvedUsers = [...new Set([...task.approvedUsers, caller.userId])].sort();
    const next = advanceTask({ ...ready, approvedUsers, updatedAtMs: Date.now() });
    await context.storage.commit({
      writes: [writeRecord(recordKeys.task(taskId), next, current)],
      audit: [auditEntry(caller, `approve task ${taskId}`)],
    });
  });
}

/**
 * Cancels a task. A task that no executor has pulled ends at once. Otherwise the
 * cancellation is requested, and the executor stops the task at its next heartbeat.
 */
export async function cancelTask(
  context: ManagementContext,
  caller: Caller,
  taskId: string,
): Promise<void> {
  parseId(taskId, "task", "task_id");
  await retryOnConflict(async () => {
    const current = await requireTask(context, taskId);
    const task = current.value;
    if (task.creator !== caller.userId && caller.role.kind !== "PlatformAdmin") {
      throw permissionDenied(`only the creator or a PlatformAdmin may cancel task ${taskId}`);
    }
    if (isTerminal(task.status)) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${taskId} is already ${statusName(task.status)}`,
      );
    }
    const heldByExecutor =
      task.status === TaskStatus.Running ||
      (task.status === TaskStatus.Staged && task.executorId !== null);
    const next: TaskRecord = heldByExecutor
      ? { ...task, cancelRequested: true }
      : {
          ...task,
          status: TaskStatus.Canceled,
          result: { err: "Task canceled" },
          cancelRequested: true,
          updatedAtMs: Date.now(),
        };
    const releases = heldByExecutor ? [] : await releaseOutputs(context, task);
    await context.storage.commit({
      writes: [writeRecord(recordKeys.task(taskId), next, current), ...releases],
      audit: [auditEntry(caller, `cancel task ${taskId}`)],
    });
  });
}

/** Deletes a task that has ended or was never invoked. */
export async function deleteTask(
  context: ManagementContext,
  caller: Caller,
  taskId: string,
): Promise<void> {
  parseId(taskId, "task", "task_id");
  await retryOnConflict(async () => {
    const current = await requireTask(context, taskId);
    const task = current.value;
    if (task.creator !== caller.userId && caller.role.kind !== "PlatformAdmin") {
      throw permissionDenied(`only the creator or a PlatformAdmin may delete task ${taskId}`);
    }
    if (task.status === TaskStatus.Staged || task.status === TaskStatus.Running) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `task ${taskId} is ${statusName(task.status)}: cancel it and wait until it ends first`,
      );
    }
    const releases = task.status === TaskStatus.Finished ? [] : await releaseOutputs(context, task);
    await context.storage.commit({
      writes: [deleteRecord(recordKeys.task(taskId), current), ...releases],
      audit: [auditEntry(caller, `delete task ${taskId}`)],
    });
  });
}

/** Frees the unwritten outputs of a task that will never run, so other tasks may use them. */
async function releaseOutputs(
  context: ManagementContext,
  task: TaskRecord,
): Promise<RecordWrite[]> {
  const writes: RecordWrite[] = [];
  for (const dataId of Object.values(task.assignedOutputs)) {
    const data = await context.storage.get(recordKeys.data(dataId));
    if (data === undefined) continue;
    const record = JSON.parse(data.value) as DataRecord;
    if (record.taskId === task.id && record.cmac === null) {
      writes.push(
        writeRecord(
          recordKeys.data(dataId),
          { ...record, taskId: null },
          { value: record, version: data.version },
        ),
      );
    }
  }
  return writes;
}
