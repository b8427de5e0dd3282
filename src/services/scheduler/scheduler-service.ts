import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { CloisterError } from "../../common/errors.ts";
import type { Logger } from "../../common/logger.ts";
import type { Scheduler, StagedTaskSchema } from "../../gen/cloister/internal/v1/scheduler_pb.ts";
import { ExecutorCommand, ExecutorStatus, TaskStatus } from "../../gen/teaclave_common_pb.ts";
import type { TaskResult } from "../../gen/teaclave_common_pb.ts";
import type { PlatformKey } from "../../security/platform-key.ts";
import { recordKeys, stagedTaskQueue } from "../../storage/records.ts";
import type { DataRecord, TaskRecord, TaskResultRecord } from "../../storage/records.ts";
import type { RecordWrite, StorageBackend } from "../../storage/storage-backend.ts";
import { readRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import { auditEntry } from "../management/management-context.ts";
import { isTerminal } from "../management/task-progress.ts";
import { unsealStagedTask } from "../staged-task.ts";
import type { StagedCrypto, StagedTaskMessage } from "../staged-task.ts";
import type { ExecutorTracker } from "./executor-tracker.ts";
import type { TaskSignal } from "./task-signal.ts";

export interface SchedulerOptions {
  readonly storage: StorageBackend;
  readonly platformKey: PlatformKey;
  readonly tracker: ExecutorTracker;
  readonly signal: TaskSignal;
  readonly logger: Logger;
  /** How long PullTask waits for a task before it returns empty. */
  readonly pullWaitMs: number;
  /** How often a waiting PullTask looks at storage, for tasks staged by other processes. */
  readonly pullPollMs: number;
}

/** Lease of a claimed queue message; a scheduler that dies mid-pull releases it by expiry. */
const claimLeaseMs = 30_000;
const executorIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

function checkExecutorId(executorId: string): void {
  if (!executorIdPattern.test(executorId)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid executor_id ${JSON.stringify(executorId.slice(0, 140))}`,
    );
  }
}

function cryptoInfo(crypto: StagedCrypto) {
  return {
    schema: crypto.schema,
    key: Buffer.from(crypto.key, "hex"),
    iv: Buffer.from(crypto.iv, "hex"),
  };
}

/** Creates the scheduler, which hands staged tasks to executors and records their results. */
export function createSchedulerService(options: SchedulerOptions): ServiceImpl<typeof Scheduler> {
  const { storage, tracker, logger } = options;

  async function claimTask(
    executorId: string,
    capabilities: readonly string[],
  ): Promise<MessageInitShape<typeof StagedTaskSchema> | undefined> {
    const queues = capabilities.map(stagedTaskQueue);
    for (;;) {
      const claim = await storage.claim(queues, executorId, claimLeaseMs);
      if (claim === undefined) return undefined;
      const message = JSON.parse(claim.value) as StagedTaskMessage;
      const task = await readRecord<TaskRecord>(storage, recordKeys.task(message.taskId));
      const acknowledge = [{ queue: claim.queue, messageId: claim.messageId }];
      if (
        task === undefined ||
        task.value.status !== TaskStatus.Staged ||
        task.value.executorId !== null
      ) {
        // Canceled or deleted before any executor took it.
        await storage.commit({ acknowledge });
        continue;
      }
      // The claim starts the run: the task is Running from the moment an executor has claimed
      // it, which saves the executor a status update per task.
      const next: TaskRecord = {
        ...task.value,
        executorId,
        status: TaskStatus.Running,
        updatedAtMs: Date.now(),
      };
      await storage.commit({
        writes: [writeRecord(recordKeys.task(task.value.id), next, task)],
        acknowledge,
        audit: [auditEntry(`executor ${executorId}`, `run task ${task.value.id}`)],
      });
      tracker.assign(executorId, task.value.id, Date.now());
      const staged = unsealStagedTask(options.platformKey, message.taskId, message.sealed);
      logger.info({ taskId: staged.taskId, executorId }, "task pulled");
      return {
        taskId: staged.taskId,
        functionId: staged.functionId,
        userId: staged.creator,
        executor: staged.executor,
        executorType: staged.executorType,
        functionName: staged.functionName,
        functionArguments: staged.functionArguments,
        functionPayload: Buffer.from(staged.payload, "base64"),
        inputData: Object.fromEntries(
          Object.entries(staged.inputs).map(([slot, input]) => [
            slot,
            {
              url: input.url,
              cmac: Buffer.from(input.cmac, "hex"),
              cryptoInfo: cryptoInfo(input.crypto),
            },
          ]),
        ),
        outputData: Object.fromEntries(
          Object.entries(staged.outputs).map(([slot, output]) => [
            slot,
            { url: output.url, cryptoInfo: cryptoInfo(output.crypto) },
          ]),
        ),
      };
    }
  }

  return {
    async heartbeat(request) {
      checkExecutorId(request.executorId);
      const now = Date.now();
      const state = tracker.seen(request.executorId, now);
      if (request.status === ExecutorStatus.Executing && request.taskId !== "") {
        const task = await readRecord<TaskRecord>(storage, recordKeys.task(request.taskId));
        if (task?.value.cancelRequested === true) return { command: ExecutorCommand.Stop };
        return { command: ExecutorCommand.NoAction };
      }
      if (request.status === ExecutorStatus.Idle && state.taskId !== null) state.taskId = null;
      for (const executor of request.capabilities) {
        if ((await storage.queueLength(stagedTaskQueue(executor))) > 0) {
          return { command: ExecutorCommand.NewTask };
        }
      }
      return { command: ExecutorCommand.NoAction };
    },

    async pullTask(request, context) {
      checkExecutorId(request.executorId);
      const deadline = Date.now() + options.pullWaitMs;
      for (;;) {
        tracker.seen(request.executorId, Date.now());
        const generation = options.signal.generation;
        const stagedTask = await claimTask(request.executorId, request.capabilities);
        if (stagedTask !== undefined) return { stagedTask };
        const remaining = deadline - Date.now();
        if (remaining <= 0 || context.signal.aborted) return {};
        await options.signal.wait(
          Math.min(remaining, options.pullPollMs),
          context.signal,
          generation,
        );
      }
    },

    async updateTaskStatus(request) {
      checkExecutorId(request.executorId);
      if (request.taskStatus !== TaskStatus.Running) {
        throw new CloisterError("INVALID_ARGUMENT", "executors may only set the status Running");
      }
      await retryOnConflict(async () => {
        const task = await requireHeldTask(storage, request.executorId, request.taskId);
        if (task.value.status === TaskStatus.Running) return;
        if (task.value.status !== TaskStatus.Staged) {
          throw new CloisterError("FAILED_PRECONDITION", `task ${request.taskId} is not staged`);
        }
        const next: TaskRecord = {
          ...task.value,
          status: TaskStatus.Running,
          updatedAtMs: Date.now(),
        };
        await storage.commit({
          writes: [writeRecord(recordKeys.task(request.taskId), next, task)],
          audit: [auditEntry(`executor ${request.executorId}`, `run task ${request.taskId}`)],
        });
      });
      tracker.seen(request.executorId, Date.now());
      return {};
    },

    async updateTaskResult(request) {
      checkExecutorId(request.executorId);
      await finishTask(storage, request.executorId, request.taskId, request.result);
      tracker.assign(request.executorId, null, Date.now());
      logger.info({ taskId: request.taskId, executorId: request.executorId }, "task ended");
      return {};
    },
  };
}

/**
 * Records an executor's result. An Ok result sets each output's cmac once and ends the task
 * Finished. An error ends it Finished with the reason, or Canceled when a cancel was requested.
 */
async function finishTask(
  storage: StorageBackend,
  executorId: string,
  taskId: string,
  result: TaskResult | undefined,
): Promise<void> {
  await retryOnConflict(async () => {
    const task = await requireHeldTask(storage, executorId, taskId);
    if (isTerminal(task.value.status)) {
      throw new CloisterError("FAILED_PRECONDITION", `task ${taskId} has already ended`);
    }
    const writes: RecordWrite[] = [];
    let resultRecord: TaskResultRecord;
    let status: number = TaskStatus.Finished;
    if (result?.result.case === "Ok") {
      const outputs = result.result.value;
      const tags: Record<string, string> = {};
      for (const [slot, tag] of Object.entries(outputs.tagsMap)) {
        const dataId = task.value.assignedOutputs[slot];
        if (dataId === undefined) {
          throw new CloisterError("INVALID_ARGUMENT", `task ${taskId} has no output slot ${slot}`);
        }
        const data = await readRecord<DataRecord>(storage, recordKeys.data(dataId));
        if (data === undefined) continue;
        if (data.value.cmac !== null) {
          throw new CloisterError("FAILED_PRECONDITION", `output ${dataId} was already written`);
        }
        tags[slot] = Buffer.from(tag).toString("hex");
        writes.push(
          writeRecord(recordKeys.data(dataId), { ...data.value, cmac: tags[slot] }, data),
        );
      }
      resultRecord = {
        ok: {
          returnValue: Buffer.from(outputs.returnValue).toString("base64"),
          tags,
          log: [...outputs.log],
        },
      };
    } else {
      const reason = result?.result.case === "Err" ? result.result.value.reason : "no result";
      if (task.value.cancelRequested) {
        status = TaskStatus.Canceled;
        resultRecord = { err: "Task canceled" };
      } else {
        resultRecord = { err: reason };
      }
    }
    const next: TaskRecord = {
      ...task.value,
      status,
      result: resultRecord,
      executorId: null,
      updatedAtMs: Date.now(),
    };
    await storage.commit({
      writes: [writeRecord(recordKeys.task(taskId), next, task), ...writes],
      audit: [auditEntry(`executor ${executorId}`, `end task ${taskId}: ${TaskStatus[status]}`)],
    });
  });
}

/** Reads a task and checks that `executorId` is the executor that pulled it. */
async function requireHeldTask(storage: StorageBackend, executorId: string, taskId: string) {
  const task = await readRecord<TaskRecord>(storage, recordKeys.task(taskId));
  if (task === undefined) throw new CloisterError("NOT_FOUND", `task ${taskId} not found`);
  if (task.value.executorId !== executorId) {
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `task ${taskId} was not pulled by executor ${executorId}`,
    );
  }
  return task;
}
