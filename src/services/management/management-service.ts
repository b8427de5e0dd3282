import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { CloisterError } from "../../common/errors.ts";
import type { Management } from "../../gen/cloister/internal/v1/management_pb.ts";
import type { Caller } from "../caller.ts";
import { callerFromHeaders } from "../caller.ts";
import {
  deleteData,
  getData,
  registerFusionOutput,
  registerInputFile,
  registerInputFromOutput,
  registerOutputFile,
  updateDataUrl,
} from "./data-operations.ts";
import {
  deleteFunction,
  disableFunction,
  getFunction,
  getFunctionUsageStats,
  listFunctions,
  registerFunction,
  updateFunction,
} from "./function-operations.ts";
import type { ManagementContext } from "./management-context.ts";
import { permissionDenied } from "./management-context.ts";
import { invokeTask } from "./task-invocation.ts";
import {
  approveTask,
  assignData,
  cancelTask,
  createTask,
  deleteTask,
  getTask,
  waitTask,
} from "./task-operations.ts";
import { taskToResponse } from "./task-view.ts";

const maxAuditLimit = 10_000;

/**
 * Creates the management service: functions, data and tasks with their ownership rules. It trusts
 * the caller headers because only the frontend may reach it.
 */
export function createManagementService(
  context: ManagementContext,
): ServiceImpl<typeof Management> {
  const caller = (handlerContext: HandlerContext): Caller =>
    callerFromHeaders(handlerContext.requestHeader);

  return {
    async registerInputFile(request, ctx) {
      return { dataId: await registerInputFile(context, caller(ctx), request) };
    },
    async registerOutputFile(request, ctx) {
      return { dataId: await registerOutputFile(context, caller(ctx), request) };
    },
    async updateInputFile(request, ctx) {
      return {
        dataId: await updateDataUrl(context, caller(ctx), "input", request.dataId, request.url),
      };
    },
    async updateOutputFile(request, ctx) {
      return {
        dataId: await updateDataUrl(context, caller(ctx), "output", request.dataId, request.url),
      };
    },
    async registerFusionOutput(request, ctx) {
      return { dataId: await registerFusionOutput(context, caller(ctx), request.ownerList) };
    },
    async registerInputFromOutput(request, ctx) {
      return { dataId: await registerInputFromOutput(context, caller(ctx), request.dataId) };
    },
    async getInputFile(request, ctx) {
      return getData(context, caller(ctx), "input", request.dataId);
    },
    async getOutputFile(request, ctx) {
      return getData(context, caller(ctx), "output", request.dataId);
    },
    async deleteInputFile(request, ctx) {
      await deleteData(context, caller(ctx), "input", request.dataId);
      return {};
    },
    async deleteOutputFile(request, ctx) {
      await deleteData(context, caller(ctx), "output", request.dataId);
      return {};
    },

    async registerFunction(request, ctx) {
      return { functionId: await registerFunction(context, caller(ctx), request) };
    },
    async updateFunction(request, ctx) {
      return {
        functionId: await updateFunction(context, caller(ctx), request.functionId, request),
      };
    },
    async getFunction(request, ctx) {
      const { record, redacted } = await getFunction(context, caller(ctx), request.functionId);
      return {
        name: record.name,
        description: record.description,
        executorType: record.executorType,
        owner: record.owner,
        payload: redacted ? new Uint8Array(0) : Buffer.from(record.payload, "base64"),
        public: record.public,
        arguments: record.arguments.map((argument) => ({ ...argument })),
        inputs: record.inputs.map((slot) => ({ ...slot })),
        outputs: record.outputs.map((slot) => ({ ...slot })),
        userAllowlist: redacted ? [] : [...record.userAllowlist],
      };
    },
    async getFunctionUsageStats(request, ctx) {
      return getFunctionUsageStats(context, caller(ctx), request.functionId);
    },
    async listFunctions(request, ctx) {
      return listFunctions(context, caller(ctx), request.userId);
    },
    async deleteFunction(request, ctx) {
      await deleteFunction(context, caller(ctx), request.functionId);
      return {};
    },
    async disableFunction(request, ctx) {
      await disableFunction(context, caller(ctx), request.functionId);
      return {};
    },

    async createTask(request, ctx) {
      return { taskId: await createTask(context, caller(ctx), request) };
    },
    async getTask(request, ctx) {
      return taskToResponse(await getTask(context, caller(ctx), request.taskId));
    },
    async waitTask(request, ctx) {
      const task = await waitTask(
        context,
        caller(ctx),
        request.taskId,
        request.timeoutMs,
        ctx.signal,
      );
      return taskToResponse(task);
    },
    async assignData(request, ctx) {
      await assignData(context, caller(ctx), request);
      return {};
    },
    async approveTask(request, ctx) {
      await approveTask(context, caller(ctx), request.taskId);
      return {};
    },
    async invokeTask(request, ctx) {
      await invokeTask(context, caller(ctx), request.taskId);
      return {};
    },
    async cancelTask(request, ctx) {
      await cancelTask(context, caller(ctx), request.taskId);
      return {};
    },
    async deleteTask(request, ctx) {
      await deleteTask(context, caller(ctx), request.taskId);
      return {};
    },

    async queryAuditLogs(request, ctx) {
      if (caller(ctx).role.kind !== "PlatformAdmin") {
        throw permissionDenied("only a PlatformAdmin may query the audit log");
      }
      if (request.limit > BigInt(maxAuditLimit)) {
        throw new CloisterError(
          "INVALID_ARGUMENT",
          `limit ${request.limit} is over the maximum of ${maxAuditLimit}`,
        );
      }
      const limit = request.limit === 0n ? 100 : Number(request.limit);
      return { logs: await context.storage.queryAudit(request.query, limit) };
    },
    async saveLogs(request) {
      await context.storage.commit({ audit: request.logs });
      return {};
    },
  };
}
