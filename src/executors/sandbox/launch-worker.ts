import { Worker } from "node:worker_threads";
import type { ResourceLimits } from "node:worker_threads";
import { CloisterError } from "../../common/errors.ts";
import { workerChannel } from "./sandbox-channel.ts";
import type { SandboxChannel } from "./sandbox-channel.ts";

const bootstrap = new URL("./worker-bootstrap.mjs", import.meta.url);

/** Time a new worker has to load its code and report that it is ready. */
const startTimeoutMs = 30_000;

/**
 * Starts a worker thread that runs the TypeScript module `entry` and resolves once it sent
 * `{ type: "ready" }`. The worker gets an empty environment and no standard input.
 */
export function launchWorker(
  entry: URL,
  resourceLimits: ResourceLimits,
  data: Record<string, unknown> = {},
): Promise<SandboxChannel> {
  const worker = new Worker(bootstrap, {
    workerData: { ...data, entry: entry.href },
    resourceLimits,
    env: {},
    stdin: false,
    stdout: true,
    stderr: true,
  });
  // Sandbox code never prints; draining the streams keeps a stray write from piling up.
  worker.stdout.resume();
  worker.stderr.resume();
  const channel = workerChannel(worker);
  return new Promise<SandboxChannel>((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.kill();
      reject(
        new CloisterError("UNAVAILABLE", `a sandbox worker did not start in ${startTimeoutMs} ms`),
      );
    }, startTimeoutMs);
    worker.once("message", (message: { type?: string }) => {
      clearTimeout(timer);
      if (message.type === "ready") resolve(channel);
      else
        reject(
          new CloisterError("INTERNAL", "a sandbox worker sent a message before it was ready"),
        );
    });
    channel.onExit((reason) => {
      clearTimeout(timer);
      reject(new CloisterError("UNAVAILABLE", `a sandbox worker failed to start: ${reason}`));
    });
  });
}
