import { TaskStatus } from "../../gen/teaclave_common_pb.ts";
import type { TaskRecord } from "../../storage/records.ts";

/** Slots declared in the task's ownership lists that have no data assigned yet. */
export function unassignedSlots(task: TaskRecord): string[] {
  return [
    ...Object.keys(task.inputsOwnership).filter((slot) => task.assignedInputs[slot] === undefined),
    ...Object.keys(task.outputsOwnership).filter(
      (slot) => task.assignedOutputs[slot] === undefined,
    ),
  ];
}

/** Participants who have not approved the task. */
export function missingApprovals(task: TaskRecord): string[] {
  return task.participants.filter((user) => !task.approvedUsers.includes(user));
}

/**
 * Moves a task forward as far as it is ready: Created → DataAssigned once every slot has
 * data, DataAssigned → Approved once every participant has approved.
 */
export function advanceTask(task: TaskRecord): TaskRecord {
  let status = task.status;
  if (status === TaskStatus.Created && unassignedSlots(task).length === 0) {
    status = TaskStatus.DataAssigned;
  }
  if (status === TaskStatus.DataAssigned && missingApprovals(task).length === 0) {
    status = TaskStatus.Approved;
  }
  return status === task.status ? task : { ...task, status, updatedAtMs: Date.now() };
}

export function isTerminal(status: number): boolean {
  return (
    status === TaskStatus.Finished || status === TaskStatus.Failed || status === TaskStatus.Canceled
  );
}

export function statusName(status: number): string {
  return TaskStatus[status] ?? String(status);
}
