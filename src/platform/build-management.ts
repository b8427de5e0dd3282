import type { ServiceImpl } from "@connectrpc/connect";
import { AccessControl } from "../gen/cloister/internal/v1/access_control_pb.ts";
import { Management } from "../gen/cloister/internal/v1/management_pb.ts";
import { createAccessControlService } from "../services/access-control/access-control-service.ts";
import { guardService } from "../services/guard-service.ts";
import { createManagementService } from "../services/management/management-service.ts";
import type { TaskSignal } from "../services/scheduler/task-signal.ts";
import { WaitTaskLimits } from "../services/management/wait-task-limits.ts";
import { routesOf } from "./service-unit.ts";
import type { ServiceContext, ServiceUnit } from "./service-unit.ts";

/** Open WaitTask calls one user may have in one management process. */
const maxWaitsPerUser = 64;

/**
 * Builds the management service: functions, data and tasks, called by the frontend. With
 * the scheduler in the same process, every task end wakes WaitTask directly, so its reads
 * of storage are only a rare safety net.
 */
export function buildManagement(
  context: ServiceContext,
  options: { schedulerInProcess: boolean },
): ServiceUnit {
  const logger = context.component("management");
  const service = createManagementService({
    storage: context.storage,
    platformKey: context.platformKey,
    logger,
    waitTaskLimits: new WaitTaskLimits({
      maxPollIntervalMs: options.schedulerInProcess ? 1_000 : 10,
      maxWaitsPerUser,
    }),
  });
  return {
    name: "management",
    internalRoutes: routesOf(
      Management,
      guardService(notifyOnInvoke(service, context.taskSignal), logger, "management"),
    ),
  };
}

/** Builds the access control service, which checks roles against the API policy. */
export function buildAccessControl(context: ServiceContext): ServiceUnit {
  return {
    name: "access_control",
    internalRoutes: routesOf(
      AccessControl,
      guardService(
        createAccessControlService(),
        context.component("access-control"),
        "access-control",
      ),
    ),
  };
}

/**
 * Wakes waiting executors as soon as management stages a task. The signal reaches only a
 * scheduler in the same process; a remote scheduler finds the task when it next polls storage.
 */
function notifyOnInvoke(
  service: ServiceImpl<typeof Management>,
  signal: TaskSignal,
): ServiceImpl<typeof Management> {
  return {
    ...service,
    async invokeTask(request, context) {
      const response = await service.invokeTask(request, context);
      signal.notify();
      return response;
    },
  };
}
