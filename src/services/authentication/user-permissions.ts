import { CloisterError } from "../../common/errors.ts";
import { parseRole } from "../../common/roles.ts";
import type { UserRole } from "../../common/roles.ts";
import type { UserRecord } from "../../storage/records.ts";

/**
 * Account delegation rules, as Teaclave's but with its flaw fixed: a DataOwnerManager may act
 * only on accounts that already are DataOwners of its own group.
 */

function denied(action: string): CloisterError {
  return new CloisterError("PERMISSION_DENIED", `permission denied: your role may not ${action}`);
}

/** PlatformAdmin: any role. DataOwnerManager-X: DataOwner-X. FunctionOwner: DataOwnerManager. */
export function checkMayRegister(caller: UserRole, newRole: UserRole): void {
  if (caller.kind === "PlatformAdmin") return;
  if (
    caller.kind === "DataOwnerManager" &&
    newRole.kind === "DataOwner" &&
    newRole.attribute === caller.attribute
  ) {
    return;
  }
  if (caller.kind === "FunctionOwner" && newRole.kind === "DataOwnerManager") return;
  throw denied(`register a user with role ${describe(newRole)}`);
}

/** PlatformAdmin: anyone. DataOwnerManager-X: a DataOwner-X, who stays a DataOwner-X. */
export function checkMayUpdate(caller: UserRole, target: UserRecord, newRole: UserRole): void {
  if (caller.kind === "PlatformAdmin") return;
  if (caller.kind === "DataOwnerManager" && isDataOwnerOf(target, caller.attribute)) {
    if (newRole.kind === "DataOwner" && newRole.attribute === caller.attribute) return;
    throw denied(`give user ${target.id} the role ${describe(newRole)}`);
  }
  throw denied(`update user ${target.id}`);
}

/** Reset and delete: PlatformAdmin, or DataOwnerManager-X for a DataOwner-X. */
export function checkMayManage(caller: UserRole, target: UserRecord, action: string): void {
  if (caller.kind === "PlatformAdmin") return;
  if (caller.kind === "DataOwnerManager" && isDataOwnerOf(target, caller.attribute)) return;
  throw denied(`${action} user ${target.id}`);
}

function isDataOwnerOf(user: UserRecord, attribute: string): boolean {
  const role = parseRole(user.role);
  return role.kind === "DataOwner" && role.attribute === attribute;
}

function describe(role: UserRole): string {
  return "attribute" in role ? `${role.kind}-${role.attribute}` : role.kind;
}
