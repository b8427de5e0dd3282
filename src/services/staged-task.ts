import type { PlatformKey } from "../security/platform-key.ts";

/** A file's crypto info inside a staged task: hex key and IV. */
export interface StagedCrypto {
  readonly schema: string;
  readonly key: string;
  readonly iv: string;
}

/**
 * Everything an executor needs to run one task, fixed when the creator invokes it: later
 * changes to the function or the data do not alter a staged task. It carries file keys, so
 * it is sealed with the platform key while it waits in the queue.
 */
export interface StagedTask {
  readonly taskId: string;
  readonly functionId: string;
  readonly creator: string;
  readonly executor: string;
  readonly executorType: string;
  readonly functionName: string;
  /** The final argument object as JSON text. */
  readonly functionArguments: string;
  /** Base64 of the function's code. */
  readonly payload: string;
  readonly inputs: Readonly<
    Record<string, { readonly url: string; readonly cmac: string; readonly crypto: StagedCrypto }>
  >;
  readonly outputs: Readonly<
    Record<string, { readonly url: string; readonly crypto: StagedCrypto }>
  >;
}

export function sealStagedTask(platformKey: PlatformKey, task: StagedTask): string {
  const sealed = platformKey.seal(Buffer.from(JSON.stringify(task)), `staged-task/${task.taskId}`);
  return sealed.toString("base64");
}

export function unsealStagedTask(
  platformKey: PlatformKey,
  taskId: string,
  sealed: string,
): StagedTask {
  const json = platformKey.unseal(Buffer.from(sealed, "base64"), `staged-task/${taskId}`);
  return JSON.parse(json.toString("utf8")) as StagedTask;
}

/** The queue message of a staged task: the id in clear for routing, the rest sealed. */
export interface StagedTaskMessage {
  readonly taskId: string;
  readonly sealed: string;
}
