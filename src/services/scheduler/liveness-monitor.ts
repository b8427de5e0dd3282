import type { Logger } from "../../common/logger.ts";
import { TaskStatus } from "../../gen/teaclave_common_pb.ts";
import { recordKeys } from "../../storage/records.ts";
import type { TaskRecord } from "../../storage/records.ts";
import type { StorageBackend } from "../../storage/storage-backend.ts";
import { readRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import { auditEntry } from "../management/management-context.ts";
import type { ExecutorTracker } from "./executor-tracker.ts";

/** The failure reason of a task whose executor stopped sending heartbeats, as Teaclave's. */
export const executorTimeoutReason = "Runtime Error: Executor Timeout";

/**
 * Fails the tasks of executors that have been silent for longer than the timeout. At start
 * it gives every executor that has a task in storage a fresh grace period, unless no
 * executor outside this process can reach the scheduler: then those executors died with
 * the previous process, and their tasks fail at once.
 */
export class LivenessMonitor {
  readonly #storage: StorageBackend;
  readonly #tracker: ExecutorTracker;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #remoteExecutors: boolean;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> = Promise.resolve();

  constructor(options: {
    storage: StorageBackend;
    tracker: ExecutorTracker;
    logger: Logger;
    executorTimeoutMs: number;
    /** Whether executors in other processes may pull tasks from this scheduler. */
    remoteExecutors: boolean;
  }) {
    this.#storage = options.storage;
    this.#tracker = options.tracker;
    this.#logger = options.logger;
    this.#timeoutMs = options.executorTimeoutMs;
    this.#remoteExecutors = options.remoteExecutors;
  }

  async start(checkIntervalMs: number): Promise<void> {
    const now = Date.now();
    for (const stored of await this.#storage.list("tasks/")) {
      const task = JSON.parse(stored.value) as TaskRecord;
      if (
        task.executorId !== null &&
        (task.status === TaskStatus.Staged || task.status === TaskStatus.Running)
      ) {
        if (this.#remoteExecutors) {
          this.#tracker.restore(task.executorId, task.id, now);
        } else {
          this.#logger.warn(
            { executorId: task.executorId, taskId: task.id },
            "executor lost: it ran in this process before the restart",
          );
          await this.#failTask(task.executorId, task.id);
        }
      }
    }
    this.#timer = setInterval(() => {
      this.#sweeping = this.#sweeping.then(() => this.sweep());
    }, checkIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** Fails the tasks of every executor that is lost now. */
  async sweep(): Promise<void> {
    for (const { executorId, taskId } of this.#tracker.takeLost(Date.now(), this.#timeoutMs)) {
      this.#logger.warn({ executorId, taskId }, "executor lost: no heartbeat within the timeout");
      if (taskId === null) continue;
      try {
        await this.#failTask(executorId, taskId);
      } catch (error) {
        this.#logger.error(
          { err: error, executorId, taskId },
          "failed to fail the lost executor's task",
        );
      }
    }
  }

  async #failTask(executorId: string, taskId: string): Promise<void> {
    await retryOnConflict(async () => {
      const task = await readRecord<TaskRecord>(this.#storage, recordKeys.task(taskId));
      if (task === undefined || task.value.executorId !== executorId) return;
      if (task.value.status !== TaskStatus.Staged && task.value.status !== TaskStatus.Running)
        return;
      const next: TaskRecord = {
        ...task.value,
        status: TaskStatus.Failed,
        result: { err: executorTimeoutReason },
        executorId: null,
        updatedAtMs: Date.now(),
      };
      await this.#storage.commit({
        writes: [writeRecord(recordKeys.task(taskId), next, task)],
        audit: [auditEntry(`executor ${executorId}`, `fail task ${taskId}: executor timeout`)],
      });
    });
  }
}
