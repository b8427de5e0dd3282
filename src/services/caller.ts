import { randomUUID } from "node:crypto";
import { CloisterError } from "../common/errors.ts";
import { parseRole } from "../common/roles.ts";
import type { UserRole } from "../common/roles.ts";

/**
 * The authenticated user behind an internal call. The frontend sets these headers after it
 * has verified the user's token; internal services accept them only from the frontend.
 */
export interface Caller {
  readonly userId: string;
  readonly role: UserRole;
  readonly requestId: string;
}

export const callerHeaderNames = {
  userId: "x-cloister-user",
  role: "x-cloister-role",
  requestId: "x-request-id",
} as const;

export function callerToHeaders(caller: Caller, roleString: string): Record<string, string> {
  return {
    [callerHeaderNames.userId]: caller.userId,
    [callerHeaderNames.role]: roleString,
    [callerHeaderNames.requestId]: caller.requestId,
  };
}

export function callerFromHeaders(headers: Headers): Caller {
  const userId = headers.get(callerHeaderNames.userId);
  const role = headers.get(callerHeaderNames.role);
  if (userId === null || userId === "" || role === null) {
    throw new CloisterError("UNAUTHENTICATED", "internal call without a caller identity");
  }
  return {
    userId,
    role: parseRole(role),
    requestId: headers.get(callerHeaderNames.requestId) ?? randomUUID(),
  };
}
