import { randomBytes } from "node:crypto";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { CloisterError } from "../../common/errors.ts";
import { parseRole, roleFromParts } from "../../common/roles.ts";
import type { TeaclaveAuthenticationApi } from "../../gen/teaclave_authentication_service_pb.ts";
import type { AuthenticatedUser, UserDirectory } from "./user-directory.ts";
import { checkMayManage, checkMayRegister, checkMayUpdate } from "./user-permissions.ts";

/** Teaclave's public authentication API: user accounts and login. */
export function createAuthenticationApiService(
  users: UserDirectory,
): ServiceImpl<typeof TeaclaveAuthenticationApi> {
  async function authenticate(context: HandlerContext): Promise<AuthenticatedUser> {
    const id = context.requestHeader.get("id") ?? "";
    const token = context.requestHeader.get("token") ?? "";
    return users.authenticate(id, token);
  }

  return {
    async userRegister(request, context) {
      const caller = await authenticate(context);
      if (request.id === "") {
        throw new CloisterError("INVALID_ARGUMENT", "user id is missing");
      }
      const role = roleFromParts(request.role, request.attribute);
      checkMayRegister(caller.role, role);
      await users.create(request.id, request.password, role);
      return {};
    },

    async userUpdate(request, context) {
      const caller = await authenticate(context);
      const role = roleFromParts(request.role, request.attribute);
      await users.update(request.id, { password: request.password, role }, (target) =>
        checkMayUpdate(caller.role, target, role),
      );
      return {};
    },

    async userLogin(request) {
      return { token: await users.login(request.id, request.password) };
    },

    async userChangePassword(request, context) {
      const caller = await authenticate(context);
      await users.update(caller.userId, { password: request.password });
      return {};
    },

    async resetUserPassword(request, context) {
      const caller = await authenticate(context);
      // Teaclave's format: a random UUID's 32 hex digits without dashes.
      const password = randomBytes(16).toString("hex");
      await users.update(request.id, { password }, (target) =>
        checkMayManage(caller.role, target, "reset the password of"),
      );
      return { password };
    },

    async deleteUser(request, context) {
      const caller = await authenticate(context);
      if (request.id === caller.userId) {
        throw new CloisterError(
          "FAILED_PRECONDITION",
          "you cannot delete your own account: ask another administrator",
        );
      }
      await users.delete(request.id, (target) => checkMayManage(caller.role, target, "delete"));
      return {};
    },

    async listUsers(request, context) {
      const caller = await authenticate(context);
      const all = await users.list();
      if (caller.role.kind === "PlatformAdmin") return { ids: all.map((user) => user.id) };
      if (caller.role.kind === "DataOwnerManager" && request.id === caller.role.attribute) {
        const group = caller.role.attribute;
        return {
          ids: all
            .filter((user) => {
              const role = parseRole(user.role);
              return role.kind === "DataOwner" && role.attribute === group;
            })
            .map((user) => user.id),
        };
      }
      throw new CloisterError(
        "PERMISSION_DENIED",
        "permission denied: only a PlatformAdmin, or a DataOwnerManager for its own " +
          "attribute, may list users",
      );
    },
  };
}
