import { CloisterError } from "./errors.ts";

/** A user's role. DataOwnerManager and DataOwner carry an attribute: their group's name. */
export type UserRole =
  | { readonly kind: "PlatformAdmin" }
  | { readonly kind: "FunctionOwner" }
  | { readonly kind: "DataOwnerManager"; readonly attribute: string }
  | { readonly kind: "DataOwner"; readonly attribute: string };

export type RoleKind = UserRole["kind"];

const attributePattern = /^[A-Za-z0-9_.@]{1,64}$/;

/**
 * Builds a role from the separate `role` and `attribute` fields of a register or update
 * request. Attributes may not contain `-`, because the role string joins the two with it.
 */
export function roleFromParts(role: string, attribute: string): UserRole {
  switch (role) {
    case "PlatformAdmin":
    case "FunctionOwner":
      return { kind: role };
    case "DataOwnerManager":
    case "DataOwner":
      if (!attributePattern.test(attribute)) {
        throw new CloisterError(
          "INVALID_ARGUMENT",
          `invalid attribute ${JSON.stringify(attribute)} for role ${role}: ` +
            "use 1 to 64 letters, digits, '_', '.' or '@'",
        );
      }
      return { kind: role, attribute };
    default:
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `invalid role ${JSON.stringify(role)}: expected PlatformAdmin, FunctionOwner, ` +
          "DataOwnerManager or DataOwner",
      );
  }
}

/** Formats a role as Teaclave's role string, for example `DataOwner-bank1`. */
export function formatRole(role: UserRole): string {
  return "attribute" in role ? `${role.kind}-${role.attribute}` : role.kind;
}

/** Parses a role string such as `DataOwnerManager-bank`. */
export function parseRole(text: string): UserRole {
  const separator = text.indexOf("-");
  if (separator < 0) return roleFromParts(text, "");
  return roleFromParts(text.slice(0, separator), text.slice(separator + 1));
}
