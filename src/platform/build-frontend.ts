import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { AccessControl } from "../gen/cloister/internal/v1/access_control_pb.ts";
import { Management } from "../gen/cloister/internal/v1/management_pb.ts";
import { TeaclaveAuthenticationInternal } from "../gen/teaclave_authentication_service_pb.ts";
import { TeaclaveFrontend } from "../gen/teaclave_frontend_service_pb.ts";
import { AuditBuffer } from "../services/frontend/audit-buffer.ts";
import { createFrontendService } from "../services/frontend/frontend-service.ts";
import { routesOf } from "./service-unit.ts";
import type { ServiceContext, ServiceUnit } from "./service-unit.ts";

/** The internal endpoints the frontend calls, in-process or remote. */
export interface FrontendLinks {
  readonly authentication: Transport;
  readonly management: Transport;
  readonly accessControl: Transport;
}

/**
 * Builds the frontend (port 7777): it checks each user's token with authentication and the
 * API policy with access control, forwards the call to management, and buffers audit entries.
 */
export function buildFrontend(context: ServiceContext, links: FrontendLinks): ServiceUnit {
  const logger = context.component("frontend");
  const management = createClient(Management, links.management);
  const audit = new AuditBuffer(
    (entries) => management.saveLogs({ logs: entries }).then(() => {}),
    logger,
  );
  const frontend = createFrontendService({
    authentication: createClient(TeaclaveAuthenticationInternal, links.authentication),
    accessControl: createClient(AccessControl, links.accessControl),
    management,
    audit,
    logger,
  });
  return {
    name: "frontend",
    publicRoutes: routesOf(TeaclaveFrontend, frontend),
    stop: () => audit.flush(),
  };
}
