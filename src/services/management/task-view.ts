import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { TaskResultSchema } from "../../gen/teaclave_common_pb.ts";
import type { GetTaskResponseSchema } from "../../gen/teaclave_frontend_service_pb.ts";
import type { TaskRecord } from "../../storage/records.ts";

/** Converts a task record into Teaclave's GetTaskResponse. */
export function taskToResponse(task: TaskRecord): MessageInitShape<typeof GetTaskResponseSchema> {
  const ownerLists = (ownership: Readonly<Record<string, readonly string[]>>) =>
    Object.entries(ownership).map(([dataName, uids]) => ({ dataName, uids: [...uids] }));
  const dataMaps = (assigned: Readonly<Record<string, string>>) =>
    Object.entries(assigned).map(([dataName, dataId]) => ({ dataName, dataId }));
  return {
    taskId: task.id,
    creator: task.creator,
    functionId: task.functionId,
    functionOwner: task.functionOwner,
    functionArguments: JSON.stringify(task.functionArguments),
    inputsOwnership: ownerLists(task.inputsOwnership),
    outputsOwnership: ownerLists(task.outputsOwnership),
    participants: [...task.participants],
    approvedUsers: [...task.approvedUsers],
    assignedInputs: dataMaps(task.assignedInputs),
    assignedOutputs: dataMaps(task.assignedOutputs),
    status: task.status,
    result: taskResult(task),
  };
}

function taskResult(task: TaskRecord) {
  const result = task.result;
  if (result === null) return create(TaskResultSchema, {});
  if ("ok" in result) {
    return create(TaskResultSchema, {
      result: {
        case: "Ok",
        value: {
          returnValue: Buffer.from(result.ok.returnValue, "base64"),
          tagsMap: Object.fromEntries(
            Object.entries(result.ok.tags).map(([slot, tag]) => [slot, Buffer.from(tag, "hex")]),
          ),
          log: [...result.ok.log],
        },
      },
    });
  }
  return create(TaskResultSchema, { result: { case: "Err", value: { reason: result.err } } });
}
