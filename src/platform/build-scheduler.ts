import { Scheduler } from "../gen/cloister/internal/v1/scheduler_pb.ts";
import { guardService } from "../services/guard-service.ts";
import { ExecutorTracker } from "../services/scheduler/executor-tracker.ts";
import { LivenessMonitor } from "../services/scheduler/liveness-monitor.ts";
import { createSchedulerService } from "../services/scheduler/scheduler-service.ts";
import { acquireSchedulerLock } from "./scheduler-lock.ts";
import type { SchedulerLock } from "./scheduler-lock.ts";
import { routesOf } from "./service-unit.ts";
import type { ServiceContext, ServiceUnit } from "./service-unit.ts";

/** How often a waiting PullTask looks at storage for tasks staged by other processes. */
const pullPollMs = 200;

/**
 * Builds the scheduler: it hands staged tasks to executors, records their results, and
 * fails the tasks of executors that stop sending heartbeats.
 */
export function buildScheduler(
  context: ServiceContext,
  options: { remoteExecutors: boolean },
): ServiceUnit {
  const { config, storage } = context;
  const logger = context.component("scheduler");
  const tracker = new ExecutorTracker();
  const liveness = new LivenessMonitor({
    storage,
    tracker,
    logger,
    executorTimeoutMs: config.executorTimeoutMs,
    remoteExecutors: options.remoteExecutors,
  });
  const service = createSchedulerService({
    storage,
    platformKey: context.platformKey,
    tracker,
    signal: context.taskSignal,
    logger,
    pullWaitMs: config.pullWaitMs,
    pullPollMs,
  });
  let lock: SchedulerLock | undefined;
  return {
    name: "scheduler",
    internalRoutes: routesOf(Scheduler, guardService(service, logger, "scheduler")),
    async start() {
      lock = acquireSchedulerLock(context.paths.schedulerLock, config.dataDirectory);
      try {
        await liveness.start(Math.min(1000, config.executorTimeoutMs / 3));
      } catch (error) {
        lock.release();
        throw error;
      }
    },
    async stop() {
      await liveness.stop();
      lock?.release();
    },
  };
}
