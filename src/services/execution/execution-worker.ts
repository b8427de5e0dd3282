import type { Client } from "@connectrpc/connect";
import { join } from "node:path";
import { CloisterError } from "../../common/errors.ts";
import type { Logger } from "../../common/logger.ts";
import type { Executor } from "../../executors/executor.ts";
import { parseFileCrypto } from "../../files/file-crypto.ts";
import { prepareTaskFiles } from "../../files/index.ts";
import type { LocalPathPolicy } from "../../files/index.ts";
import type { Scheduler, StagedTask } from "../../gen/cloister/internal/v1/scheduler_pb.ts";
import { ExecutorCommand, ExecutorStatus } from "../../gen/teaclave_common_pb.ts";

export interface ExecutionWorkerOptions {
  readonly executorId: string;
  readonly scheduler: Client<typeof Scheduler>;
  /** The executors this worker runs, by their task `executor` name. */
  readonly executors: ReadonlyMap<string, Executor>;
  readonly workDirectory: string;
  readonly fusionBaseDirectory: string;
  /** Directories that `file:` URLs may read and write; without it every `file:` URL is rejected. */
  readonly localPaths?: LocalPathPolicy;
  readonly heartbeatIntervalMs: number;
  readonly maxOutputBytes: number;
  readonly logger: Logger;
  /** CA certificate that https file URLs may chain to, besides the system roots. */
  readonly httpsCa?: string | Buffer;
}

/**
 * One executor worker: pulls a task from the scheduler, runs it, and reports the result. It
 * sends a heartbeat on a timer, and stops the running task when the scheduler replies Stop.
 */
export class ExecutionWorker {
  readonly #options: ExecutionWorkerOptions;
  readonly #stop = new AbortController();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #current: { taskId: string; abort: AbortController } | undefined;
  #loop: Promise<void> = Promise.resolve();

  constructor(options: ExecutionWorkerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#heartbeatTimer = setInterval(
      () => void this.#heartbeat(),
      this.#options.heartbeatIntervalMs,
    );
    this.#heartbeatTimer.unref();
    this.#loop = this.#run();
  }

  /** Stops pulling, aborts the running task, and waits for the loop to end. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeatTimer);
    this.#stop.abort();
    this.#current?.abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { scheduler, executorId, logger } = this.#options;
    const capabilities = [...this.#options.executors.keys()];
    let backoffMs = 100;
    while (!this.#stop.signal.aborted) {
      try {
        const { stagedTask } = await scheduler.pullTask(
          { executorId, capabilities },
          { signal: this.#stop.signal },
        );
        backoffMs = 100;
        if (stagedTask !== undefined) await this.#execute(stagedTask);
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        logger.error({ err: error, executorId }, "pulling a task failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  async #execute(task: StagedTask): Promise<void> {
    const { scheduler, executorId, logger } = this.#options;
    const abort = new AbortController();
    this.#current = { taskId: task.taskId, abort };
    const log = logger.child({ taskId: task.taskId, executorId });
    try {
      const started = performance.now();
      const result = await this.#runTask(task, abort.signal).then(
        (outputs) => ({ case: "Ok" as const, value: outputs }),
        (error: unknown) => {
          const reason = CloisterError.is(error) ? error.message : "internal error";
          if (!CloisterError.is(error))
            log.error({ err: error }, "task failed with an unexpected error");
          return { case: "Err" as const, value: { reason } };
        },
      );
      log.info(
        { durationMs: Math.round(performance.now() - started), result: result.case },
        "task run",
      );
      await scheduler.updateTaskResult({ executorId, taskId: task.taskId, result: { result } });
    } catch (error) {
      log.error({ err: error }, "reporting the task failed");
    } finally {
      this.#current = undefined;
    }
  }

  async #runTask(task: StagedTask, signal: AbortSignal) {
    const executor = this.#options.executors.get(task.executor);
    if (executor === undefined || executor.executorType !== task.executorType) {
      throw new CloisterError("FAILED_PRECONDITION", "function not available");
    }
    const files = await prepareTaskFiles(
      {
        inputs: Object.fromEntries(
          Object.entries(task.inputData).map(([slot, input]) => [
            slot,
            {
              url: input.url,
              cmac: input.cmac,
              crypto: parseFileCrypto(input.cryptoInfo ?? { schema: "" }, "input"),
            },
          ]),
        ),
        outputs: Object.fromEntries(
          Object.entries(task.outputData).map(([slot, output]) => [
            slot,
            {
              url: output.url,
              crypto: parseFileCrypto(output.cryptoInfo ?? { schema: "" }, "output"),
            },
          ]),
        ),
      },
      {
        workDirectory: join(this.#options.workDirectory, task.taskId),
        fusionBaseDirectory: this.#options.fusionBaseDirectory,
        ...(this.#options.localPaths === undefined ? {} : { localPaths: this.#options.localPaths }),
        maxOutputBytes: this.#options.maxOutputBytes,
        signal,
        ...(this.#options.httpsCa === undefined ? {} : { httpsCa: this.#options.httpsCa }),
      },
    );
    try {
      const args = JSON.parse(task.functionArguments) as Record<string, unknown>;
      const outcome = await executor.execute(
        {
          taskId: task.taskId,
          functionName: task.functionName,
          executorType: task.executorType,
          arguments: args,
          payload: task.functionPayload,
          limits: {
            cpuTimeMs: Number(task.limits?.cpuTimeMs ?? 0n),
            memoryBytes: Number(task.limits?.memoryBytes ?? 0n),
            outputBytes: Number(task.limits?.outputBytes ?? 0n),
          },
        },
        files.runtime,
        signal,
      );
      signal.throwIfAborted();
      const tagsMap = await files.publish();
      return {
        returnValue: Buffer.from(outcome.summary, "utf8"),
        tagsMap,
        log: args["save_log"] === "true" ? [...outcome.log] : [],
      };
    } catch (error) {
      if (signal.aborted) throw new CloisterError("ABORTED", "Task canceled");
      throw error;
    } finally {
      await files.dispose();
    }
  }

  async #heartbeat(): Promise<void> {
    const { scheduler, executorId, logger } = this.#options;
    const current = this.#current;
    try {
      const { command } = await scheduler.heartbeat({
        executorId,
        status: current === undefined ? ExecutorStatus.Idle : ExecutorStatus.Executing,
        taskId: current?.taskId ?? "",
        capabilities: [...this.#options.executors.keys()],
      });
      if (command === ExecutorCommand.Stop && current !== undefined) {
        logger.info({ executorId, taskId: current.taskId }, "stopping the task: canceled");
        current.abort.abort();
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) logger.warn({ err: error, executorId }, "heartbeat failed");
    }
  }
}
