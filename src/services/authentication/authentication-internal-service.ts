import type { ServiceImpl } from "@connectrpc/connect";
import type { TeaclaveAuthenticationInternal } from "../../gen/teaclave_authentication_service_pb.ts";
import type { UserDirectory } from "./user-directory.ts";

/** Creates the internal endpoint that the frontend calls to check each request's credentials. */
export function createAuthenticationInternalService(
  users: UserDirectory,
): ServiceImpl<typeof TeaclaveAuthenticationInternal> {
  return {
    async userAuthenticate(request) {
      const user = await users.authenticate(
        request.credential?.id ?? "",
        request.credential?.token ?? "",
      );
      const { sub, role, iss, exp } = user.claims;
      return { claims: { sub, role, iss, exp: BigInt(exp) } };
    },
  };
}
