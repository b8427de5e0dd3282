import { parentPort } from "node:worker_threads";
import { CloisterError } from "../../common/errors.ts";

/** A job's result, and whether the sandbox should be replaced after it. */
export interface JobResult {
  readonly result: unknown;
  readonly retire?: boolean;
}

/**
 * Runs in a sandbox worker thread: reports that the worker is ready, then runs each job the
 * host sends with `handler`, one at a time, and sends back its result or its CloisterError.
 * A job that fails with any other error retires the worker.
 */
export function serveJobs(handler: (job: unknown) => Promise<JobResult>): void {
  const port = parentPort;
  if (port === null) {
    throw new CloisterError("INTERNAL", "serveJobs must run in a worker thread");
  }
  let queue = Promise.resolve();
  port.on("message", (message: { type?: string; job?: unknown }) => {
    if (message.type !== "run") return;
    queue = queue.then(async () => {
      try {
        const { result, retire } = await handler(message.job);
        port.postMessage({ type: "done", result, retire: retire === true });
      } catch (error) {
        const known = CloisterError.is(error);
        port.postMessage({
          type: "failed",
          code: known ? error.code : "INTERNAL",
          message: known ? error.message : "the sandbox failed while running the function",
          // A known error leaves the worker sound; anything else may have broken its state.
          retire: !known,
        });
      }
    });
  });
  port.postMessage({ type: "ready" });
}
