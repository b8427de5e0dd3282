import type { ChildProcess } from "node:child_process";
import type { Worker } from "node:worker_threads";

/** Messages a sandbox sends to the host. */
export type SandboxReply =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly result: unknown; readonly retire?: boolean }
  | {
      readonly type: "failed";
      readonly code: string;
      readonly message: string;
      readonly retire?: boolean;
    };

/** A worker thread or child process that runs sandboxed jobs, seen from the host. */
export interface SandboxChannel {
  send(message: unknown): void;
  onMessage(listener: (message: SandboxReply) => void): void;
  /** Calls `listener` once when the sandbox stops, with a reason for error messages. */
  onExit(listener: (reason: string) => void): void;
  /** Stops the sandbox at once. */
  kill(): void;
  /** Lets the host process exit while the sandbox is idle (`false`), or keeps it alive. */
  keepAlive(alive: boolean): void;
}

export function workerChannel(worker: Worker): SandboxChannel {
  let exited = false;
  const exitListeners: ((reason: string) => void)[] = [];
  const exit = (reason: string): void => {
    if (exited) return;
    exited = true;
    for (const listener of exitListeners) listener(reason);
  };
  worker.on("error", (error) => exit(`the worker failed: ${error.message}`));
  worker.on("exit", (code) => exit(`the worker exited with code ${code}`));
  return {
    send: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.on("message", listener),
    onExit: (listener) => exitListeners.push(listener),
    kill: () => {
      exit("the worker was terminated");
      void worker.terminate();
    },
    keepAlive: (alive) => (alive ? worker.ref() : worker.unref()),
  };
}

export function childProcessChannel(child: ChildProcess): SandboxChannel {
  let exited = false;
  const exitListeners: ((reason: string) => void)[] = [];
  const exit = (reason: string): void => {
    if (exited) return;
    exited = true;
    for (const listener of exitListeners) listener(reason);
  };
  child.on("error", (error) => exit(`the process failed: ${error.message}`));
  child.on("exit", (code, signal) => exit(`the process exited with ${signal ?? `code ${code}`}`));
  return {
    send: (message) => {
      if (!exited) child.send(message as object);
    },
    onMessage: (listener) => child.on("message", (message) => listener(message as SandboxReply)),
    onExit: (listener) => exitListeners.push(listener),
    kill: () => {
      exit("the process was killed");
      child.kill("SIGKILL");
    },
    keepAlive: (alive) => {
      if (alive) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    },
  };
}
