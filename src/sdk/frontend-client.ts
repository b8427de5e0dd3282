import type { Client } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { CloisterError } from "../common/errors.ts";
import { TaskStatus } from "../gen/teaclave_common_pb.ts";
import { TeaclaveFrontend } from "../gen/teaclave_frontend_service_pb.ts";
import type {
  GetTaskResponse,
  RegisterFunctionRequestSchema,
} from "../gen/teaclave_frontend_service_pb.ts";
import type { ClientOptions, Credentials } from "./client-options.ts";
import { createClientTransport } from "./client-options.ts";

/** A file's encryption as registered: schema, key and IV. */
export interface CryptoInfo {
  readonly schema: "raw" | "aes-gcm-128" | "aes-gcm-256" | "teaclave-file-128";
  readonly key?: Uint8Array;
  readonly iv?: Uint8Array;
}

/** The outcome of a finished task. */
export interface TaskOutcome {
  /** The function's summary, decoded as UTF-8. */
  readonly returnValue: string;
  /** Output slot to its 16-byte tag, the new cmac of the output file. */
  readonly tags: Readonly<Record<string, Uint8Array>>;
  readonly log: readonly string[];
}

/** Raised by `waitForTask` when a task fails, is canceled or finishes with an error. */
export class TaskFailedError extends CloisterError {
  readonly status: TaskStatus;

  constructor(taskId: string, status: TaskStatus, reason: string) {
    super("FAILED_PRECONDITION", `task ${taskId} ended ${TaskStatus[status]}: ${reason}`);
    this.status = status;
  }
}

/**
 * Client of the frontend API (port 7777). `rpc` offers every RPC with Teaclave's messages;
 * the methods below shorten the common steps of a multi-party task.
 */
export class FrontendClient {
  readonly rpc: Client<typeof TeaclaveFrontend>;
  readonly #credentials: Credentials = { id: "", token: "" };

  constructor(options: ClientOptions) {
    this.rpc = createClient(TeaclaveFrontend, createClientTransport(options, this.#credentials));
  }

  setCredentials(credentials: Credentials): void {
    this.#credentials.id = credentials.id;
    this.#credentials.token = credentials.token;
  }

  async registerFunction(
    definition: MessageInitShape<typeof RegisterFunctionRequestSchema>,
  ): Promise<string> {
    return (await this.rpc.registerFunction({ usageQuota: -1, ...definition })).functionId;
  }

  async registerInputFile(url: string, cmac: Uint8Array, crypto: CryptoInfo): Promise<string> {
    return (await this.rpc.registerInputFile({ url, cmac, cryptoInfo: crypto })).dataId;
  }

  async registerOutputFile(url: string, crypto: CryptoInfo): Promise<string> {
    return (await this.rpc.registerOutputFile({ url, cryptoInfo: crypto })).dataId;
  }

  /** Creates a task; ownership maps each slot to the user ids that own its data. */
  async createTask(options: {
    functionId: string;
    arguments?: Record<string, unknown>;
    executor?: string;
    inputsOwnership?: Record<string, string[]>;
    outputsOwnership?: Record<string, string[]>;
  }): Promise<string> {
    const ownerLists = (ownership: Record<string, string[]> = {}) =>
      Object.entries(ownership).map(([dataName, uids]) => ({ dataName, uids }));
    const { taskId } = await this.rpc.createTask({
      functionId: options.functionId,
      functionArguments: JSON.stringify(options.arguments ?? {}),
      executor: options.executor ?? "builtin",
      inputsOwnership: ownerLists(options.inputsOwnership),
      outputsOwnership: ownerLists(options.outputsOwnership),
    });
    return taskId;
  }

  /** Assigns data ids to slots; each map goes from slot name to data id. */
  async assignData(
    taskId: string,
    data: { inputs?: Record<string, string>; outputs?: Record<string, string> },
  ): Promise<void> {
    const maps = (assigned: Record<string, string> = {}) =>
      Object.entries(assigned).map(([dataName, dataId]) => ({ dataName, dataId }));
    await this.rpc.assignData({ taskId, inputs: maps(data.inputs), outputs: maps(data.outputs) });
  }

  async approveTask(taskId: string): Promise<void> {
    await this.rpc.approveTask({ taskId });
  }

  async invokeTask(taskId: string): Promise<void> {
    await this.rpc.invokeTask({ taskId });
  }

  async cancelTask(taskId: string): Promise<void> {
    await this.rpc.cancelTask({ taskId });
  }

  async getTask(taskId: string): Promise<GetTaskResponse> {
    return this.rpc.getTask({ taskId });
  }

  /**
   * Waits until a task ends and returns its outcome. Raises TaskFailedError when it fails,
   * is canceled or finishes with an error, and DEADLINE_EXCEEDED after `timeoutMs`. It uses
   * Cloister's WaitTask and falls back to polling GetTask on servers without it (Teaclave).
   */
  async waitForTask(
    taskId: string,
    options: { timeoutMs?: number; pollIntervalMs?: number } = {},
  ): Promise<TaskOutcome> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let interval = 2;
    for (;;) {
      const remaining = Math.max(1, deadline - Date.now());
      const task = await this.#waitOrGet(taskId, Math.min(remaining, 30_000));
      const result = task.result?.result;
      if (task.status === TaskStatus.Finished && result?.case === "Ok") {
        return {
          returnValue: Buffer.from(result.value.returnValue).toString("utf8"),
          tags: result.value.tagsMap,
          log: result.value.log,
        };
      }
      if (
        task.status === TaskStatus.Finished ||
        task.status === TaskStatus.Failed ||
        task.status === TaskStatus.Canceled
      ) {
        const reason = result?.case === "Err" ? result.value.reason : "no result";
        throw new TaskFailedError(taskId, task.status, reason);
      }
      if (Date.now() > deadline) {
        throw new CloisterError("DEADLINE_EXCEEDED", `task ${taskId} did not end in time`);
      }
      if (this.#waitTaskUnsupported) {
        await new Promise((resolve) => setTimeout(resolve, interval));
        interval = Math.min(interval * 2, options.pollIntervalMs ?? 250);
      }
    }
  }

  #waitTaskUnsupported = false;

  async #waitOrGet(taskId: string, timeoutMs: number): Promise<GetTaskResponse> {
    if (!this.#waitTaskUnsupported) {
      try {
        return await this.rpc.waitTask({ taskId, timeoutMs });
      } catch (error) {
        if (!(error instanceof ConnectError) || error.code !== Code.Unimplemented) throw error;
        this.#waitTaskUnsupported = true;
      }
    }
    return this.getTask(taskId);
  }
}
