import { randomBytes } from "node:crypto";
import {
  TeaclaveAuthenticationApi,
  TeaclaveAuthenticationInternal,
} from "../gen/teaclave_authentication_service_pb.ts";
import { TokenService } from "../security/token-service.ts";
import { createAuthenticationApiService } from "../services/authentication/authentication-api-service.ts";
import { createAuthenticationInternalService } from "../services/authentication/authentication-internal-service.ts";
import { UserDirectory } from "../services/authentication/user-directory.ts";
import { guardService } from "../services/guard-service.ts";
import { bootstrapAdmin } from "./bootstrap-admin.ts";
import { routesOf } from "./service-unit.ts";
import type { ServiceContext, ServiceUnit } from "./service-unit.ts";

/** The authentication service, with the admin password it generated on the first start. */
export interface AuthenticationUnit extends ServiceUnit {
  readonly generatedAdminPassword: string | undefined;
}

/**
 * Builds the authentication service: the user API (port 7776) and the internal endpoint
 * that checks tokens for the frontend. Creates the admin account on the first start.
 */
export async function buildAuthentication(context: ServiceContext): Promise<AuthenticationUnit> {
  const { config, storage, platformKey } = context;
  const tokens = await TokenService.open(storage, platformKey, {
    issuer: "Teaclave",
    lifetimeSeconds: config.tokenLifetimeSeconds,
  });
  const users = new UserDirectory(storage, tokens);
  const generatedAdminPassword = await bootstrapAdmin(users, storage, {
    dev: config.dev,
    password: config.adminPassword,
    generate: () => randomBytes(18).toString("base64url"),
  });
  const logger = context.component("authentication");
  return {
    name: "authentication",
    generatedAdminPassword,
    publicRoutes: routesOf(
      TeaclaveAuthenticationApi,
      guardService(createAuthenticationApiService(users), logger, "authentication"),
    ),
    internalRoutes: routesOf(
      TeaclaveAuthenticationInternal,
      guardService(createAuthenticationInternalService(users), logger, "authentication"),
    ),
  };
}
