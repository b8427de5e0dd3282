import type { ConnectRouter, Transport } from "@connectrpc/connect";
import { CloisterError } from "../common/errors.ts";
import type { Logger } from "../common/logger.ts";
import { createRpcTransport } from "../transport/rpc-client.ts";
import { createRejectionLog } from "../transport/rejection-log.ts";
import { rejectionReason } from "../transport/rejection-reason.ts";
import { startRpcServer } from "../transport/rpc-server.ts";
import type { RpcServer } from "../transport/rpc-server.ts";
import type { DeploymentPlan, EndpointAddress } from "./deployment-plan.ts";
import type { AttestationSetup } from "./platform-attestation.ts";
import { inProcessTransport } from "./service-unit.ts";
import type { InternalEndpointName, ServiceName } from "./service-topology.ts";

type Routes = (router: ConnectRouter) => void;

/** Returns `https://host:port`, with brackets around an IPv6 address. */
export function endpointUrl(address: EndpointAddress): string {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `https://${host}:${address.port}`;
}

function identityOf(setup: AttestationSetup, service: ServiceName) {
  const identity = setup.serviceIdentities.get(service);
  if (identity === undefined || setup.peers === undefined) {
    throw new CloisterError("INTERNAL", `service ${service} has no internal attested identity`);
  }
  return { identity, peers: setup.peers };
}

/**
 * Returns the transport `from` uses to call `endpoint`: a router transport when the endpoint
 * runs in this process, else HTTP/2 over mutual attested TLS that presents `from`'s identity
 * and accepts only a server that proves `endpoint`'s identity.
 */
export function linkTransport(options: {
  readonly plan: DeploymentPlan;
  readonly from: ServiceName;
  readonly endpoint: InternalEndpointName;
  readonly localRoutes: ReadonlyMap<InternalEndpointName, Routes>;
  readonly setup: AttestationSetup;
  readonly logger: Logger;
}): Transport {
  const { plan, from, endpoint } = options;
  if (plan.linkMode(endpoint) === "in-process") {
    const routes = options.localRoutes.get(endpoint);
    if (routes === undefined) {
      throw new CloisterError("INTERNAL", `endpoint ${endpoint} is local but was not built`);
    }
    return inProcessTransport(routes);
  }
  const { identity, peers } = identityOf(options.setup, from);
  const address = plan.endpoints[endpoint];
  const baseUrl = endpointUrl(address);
  const logRejection = createRejectionLog(options.logger, "server rejected");
  return createRpcTransport({
    baseUrl,
    verifyServer: peers.outbound(endpoint),
    clientCredentials: () => identity.credentials,
    onRejected: (error) =>
      logRejection({
        err: error,
        service: from,
        endpoint,
        address: baseUrl,
        reason: rejectionReason(error),
      }),
  });
}

/**
 * Starts the internal endpoint of a local service on its configured address. Each connection
 * must present an attested certificate of a service in the endpoint's inbound list. Any other
 * connection is closed after the handshake, before its first request.
 */
export function serveInternalEndpoint(options: {
  readonly plan: DeploymentPlan;
  readonly endpoint: InternalEndpointName;
  readonly routes: Routes;
  readonly setup: AttestationSetup;
  readonly logger: Logger;
}): Promise<RpcServer> {
  const { plan, endpoint } = options;
  const { identity, peers } = identityOf(options.setup, endpoint);
  const address = plan.endpoints[endpoint];
  return startRpcServer({
    host: plan.listenHost ?? address.host,
    port: address.port,
    credentials: identity.credentials,
    routes: options.routes,
    logger: options.logger,
    verifyClient: peers.inbound(endpoint),
  });
}
