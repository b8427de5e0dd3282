import type { ServiceImpl } from "@connectrpc/connect";
import type { AccessControl } from "../../gen/cloister/internal/v1/access_control_pb.ts";
import { isApiAllowed } from "./api-policy.ts";

/** Creates the internal access-control service, which decides whether a role may call an API. */
export function createAccessControlService(): ServiceImpl<typeof AccessControl> {
  return {
    async authorizeApi(request) {
      return { accept: isApiAllowed(request.userRole, request.api) };
    },
  };
}
