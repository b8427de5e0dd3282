import { randomBytes } from "node:crypto";
import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createExecutors } from "../executors/registry.ts";
import { Scheduler } from "../gen/cloister/internal/v1/scheduler_pb.ts";
import { ExecutionWorker } from "../services/execution/execution-worker.ts";
import type { ServiceContext, ServiceUnit } from "./service-unit.ts";

/**
 * Builds the execution service: `config.executorWorkers` workers that pull tasks from the
 * scheduler and run them, each one task at a time. It has no endpoint of its own.
 */
export function buildExecution(context: ServiceContext, schedulerLink: Transport): ServiceUnit {
  const { config, paths } = context;
  const executors = createExecutors();
  const scheduler = createClient(Scheduler, schedulerLink);
  const workers: ExecutionWorker[] = [];
  return {
    name: "execution",
    async start() {
      for (let index = 0; index < config.executorWorkers; index++) {
        const worker = new ExecutionWorker({
          executorId: `executor-${randomBytes(6).toString("hex")}`,
          scheduler,
          executors: new Map(executors.map((executor) => [executor.name, executor])),
          workDirectory: paths.workDirectory,
          fusionBaseDirectory: paths.fusionDirectory,
          localPaths: { roots: config.fileRoots, forbidden: [config.dataDirectory] },
          heartbeatIntervalMs: config.heartbeatIntervalMs,
          maxOutputBytes: config.maxOutputBytes,
          logger: context.component("execution"),
          ...(config.fileHttpsCa === undefined ? {} : { httpsCa: config.fileHttpsCa }),
        });
        worker.start();
        workers.push(worker);
      }
    },
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
      await Promise.all(executors.map((executor) => executor.close()));
    },
  };
}
