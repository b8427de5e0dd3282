import { randomUUID } from "node:crypto";
import type { Client, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { CloisterError, toConnectError } from "../../common/errors.ts";
import type { Logger } from "../../common/logger.ts";
import { parseRole } from "../../common/roles.ts";
import type { AccessControl } from "../../gen/cloister/internal/v1/access_control_pb.ts";
import type { Management } from "../../gen/cloister/internal/v1/management_pb.ts";
import type { TeaclaveAuthenticationInternal } from "../../gen/teaclave_authentication_service_pb.ts";
import { TeaclaveFrontend } from "../../gen/teaclave_frontend_service_pb.ts";
import { remoteAddressKey } from "../../transport/context-keys.ts";
import { callerToHeaders } from "../caller.ts";
import type { AuditBuffer } from "./audit-buffer.ts";
import { addressToBytes } from "./audit-buffer.ts";

export interface FrontendDependencies {
  readonly authentication: Client<typeof TeaclaveAuthenticationInternal>;
  readonly accessControl: Client<typeof AccessControl>;
  readonly management: Client<typeof Management>;
  readonly audit: AuditBuffer;
  readonly logger: Logger;
}

type Forward = (
  request: unknown,
  options: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<unknown>;

function snakeCase(name: string): string {
  return name.replace(
    /[A-Z]/g,
    (letter, index: number) => (index > 0 ? "_" : "") + letter.toLowerCase(),
  );
}

/**
 * Teaclave's public frontend. For each call it authenticates the user's token, checks the
 * role against the API policy, forwards the request to management with the caller's
 * identity, and records an audit entry.
 */
export function createFrontendService(
  deps: FrontendDependencies,
): ServiceImpl<typeof TeaclaveFrontend> {
  const decisions = new DecisionCache(deps.accessControl);
  const implementation: Record<
    string,
    (request: unknown, context: HandlerContext) => Promise<unknown>
  > = {};
  for (const method of TeaclaveFrontend.methods) {
    const api = snakeCase(method.name);
    const forward = (deps.management as unknown as Record<string, Forward>)[method.localName];
    if (forward === undefined) throw new Error(`management has no method ${method.localName}`);
    implementation[method.localName] = async (request, context) => {
      const ip = addressToBytes(context.values.get(remoteAddressKey));
      const requestId = randomUUID();
      const userId = context.requestHeader.get("id") ?? "";
      const token = context.requestHeader.get("token") ?? "";
      let role: string;
      try {
        const { claims } = await deps.authentication.userAuthenticate({
          credential: { id: userId, token },
        });
        role = claims?.role ?? "";
        const accept = await decisions.authorize(parseRole(role).kind, api);
        if (!accept) {
          throw new CloisterError(
            "PERMISSION_DENIED",
            `permission denied: role ${role} may not call ${method.name}`,
          );
        }
      } catch (error) {
        const wireError = toConnectError(error);
        deps.audit.add({
          microsecond: BigInt(Date.now()) * 1000n,
          ip,
          user: "",
          message: `authenticate to ${api}: ${wireError.rawMessage}`,
          result: false,
        });
        deps.logger.info({ requestId, api, code: wireError.code }, "request not authorized");
        throw wireError;
      }
      const user = `{ user: ${userId}, role: ${role} }`;
      try {
        const caller = { userId, role: parseRole(role), requestId };
        // The signal ends a long poll such as WaitTask when the client goes away.
        const response = await forward(request, {
          headers: callerToHeaders(caller, role),
          signal: context.signal,
        });
        deps.audit.add({
          microsecond: BigInt(Date.now()) * 1000n,
          ip,
          user,
          message: api,
          result: true,
        });
        return response;
      } catch (error) {
        const wireError = toConnectError(error);
        deps.audit.add({
          microsecond: BigInt(Date.now()) * 1000n,
          ip,
          user,
          message: `${api}:${wireError.rawMessage}`,
          result: false,
        });
        throw wireError;
      }
    };
  }
  return implementation as unknown as ServiceImpl<typeof TeaclaveFrontend>;
}

/** How long the frontend reuses an access-control decision; the policy changes only on upgrade. */
const decisionLifetimeMs = 60_000;

/** Remembers the access-control service's decisions per role and API for a minute. */
class DecisionCache {
  readonly #accessControl: Client<typeof AccessControl>;
  readonly #decisions = new Map<string, { accept: boolean; expiresAtMs: number }>();

  constructor(accessControl: Client<typeof AccessControl>) {
    this.#accessControl = accessControl;
  }

  async authorize(userRole: string, api: string): Promise<boolean> {
    const key = `${userRole}/${api}`;
    const cached = this.#decisions.get(key);
    if (cached !== undefined && cached.expiresAtMs > Date.now()) return cached.accept;
    const { accept } = await this.#accessControl.authorizeApi({ userRole, api });
    this.#decisions.set(key, { accept, expiresAtMs: Date.now() + decisionLifetimeMs });
    return accept;
  }
}
