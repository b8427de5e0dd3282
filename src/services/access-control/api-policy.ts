import type { RoleKind } from "../../common/roles.ts";

/**
 * The role-to-API policy of the frontend (Teaclave's casbin policy). PlatformAdmin may call
 * every API; the per-record rules (owner, participant, creator) are checked by management.
 */

const functionOwnerApis = [
  "register_function",
  "update_function",
  "delete_function",
  "disable_function",
  "get_function",
  "list_functions",
  "get_function_usage_stats",
  // The owner of a private function is a participant of every task that uses it and must
  // approve it. Teaclave's policy denied FunctionOwner these three calls, so such a task
  // could never run. Management still limits them to the task's participants, which also
  // include a FunctionOwner named as an owner of one of the task's files.
  "get_task",
  "wait_task",
  "approve_task",
] as const;

const dataOwnerApis = [
  "register_input_file",
  "register_output_file",
  "update_input_file",
  "update_output_file",
  "register_fusion_output",
  "register_input_from_output",
  "get_output_file",
  "get_input_file",
  "delete_input_file",
  "delete_output_file",
  "create_task",
  "get_task",
  "wait_task",
  "assign_data",
  "approve_task",
  "invoke_task",
  "cancel_task",
  "delete_task",
  "get_function",
  "list_functions",
  "get_function_usage_stats",
] as const;

const apisByRole: Readonly<Record<Exclude<RoleKind, "PlatformAdmin">, ReadonlySet<string>>> = {
  FunctionOwner: new Set(functionOwnerApis),
  DataOwnerManager: new Set(dataOwnerApis),
  DataOwner: new Set(dataOwnerApis),
};

/** Tells whether a role (without its attribute, for example `DataOwner`) may call `api`. */
export function isApiAllowed(roleKind: string, api: string): boolean {
  if (roleKind === "PlatformAdmin") return true;
  const allowed = apisByRole[roleKind as keyof typeof apisByRole] as
    ReadonlySet<string> | undefined;
  return allowed?.has(api) ?? false;
}
