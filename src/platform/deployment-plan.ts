import { CloisterError } from "../common/errors.ts";
import {
  defaultInternalPorts,
  inboundLists,
  internalEndpointNames,
  isInternalEndpoint,
  outboundLinks,
  parseServiceName,
  serviceNames,
} from "./service-topology.ts";
import type { InternalEndpointName, ServiceName } from "./service-topology.ts";

/** A host and TCP port. */
export interface EndpointAddress {
  readonly host: string;
  readonly port: number;
}

/** The services one process runs and the addresses of the internal endpoints. */
export interface DeploymentOptions {
  /** Services this process runs. Default: every service, linked in-process. */
  readonly services?: readonly ServiceName[];
  /**
   * Address of each internal endpoint: its service listens there, and the services of other
   * processes connect there. Default: 127.0.0.1 with Teaclave's port.
   */
  readonly endpoints?: Partial<Record<InternalEndpointName, EndpointAddress>>;
  /** Address the internal endpoints of this process bind to, such as `0.0.0.0`. Default: the endpoint's host. */
  readonly listenHost?: string;
}

/** The transport of a link: a router transport, or HTTP/2 over mutual attested TLS. */
export type LinkMode = "in-process" | "remote";

/** The resolved deployment of one process. */
export interface DeploymentPlan {
  readonly local: ReadonlySet<ServiceName>;
  readonly endpoints: Readonly<Record<InternalEndpointName, EndpointAddress>>;
  readonly listenHost: string | undefined;
  /** Local internal endpoints that a service of another process may call. */
  readonly servedEndpoints: readonly InternalEndpointName[];
  /** Local services that need their own attested identity: they serve or call a remote link. */
  readonly attestedServices: readonly ServiceName[];
  linkMode(endpoint: InternalEndpointName): LinkMode;
  /** Tells whether any link of this process crosses a process boundary. */
  readonly split: boolean;
}

/** Resolves the deployment options of one process into a plan. */
export function planDeployment(options: DeploymentOptions = {}): DeploymentPlan {
  const local = new Set(options.services ?? serviceNames);
  if (local.size === 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "the deployment runs no service: name at least one",
    );
  }
  const endpoints = {} as Record<InternalEndpointName, EndpointAddress>;
  for (const name of internalEndpointNames) {
    const address = options.endpoints?.[name] ?? {
      host: "127.0.0.1",
      port: defaultInternalPorts[name],
    };
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65_535) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `endpoint ${name} port must be from 1 to 65535, got ${address.port}`,
      );
    }
    endpoints[name] = address;
  }
  const linkMode = (endpoint: InternalEndpointName): LinkMode =>
    local.has(endpoint) ? "in-process" : "remote";

  const servedEndpoints = internalEndpointNames.filter(
    (endpoint) =>
      local.has(endpoint) && inboundLists[endpoint].some((caller) => !local.has(caller)),
  );
  const attestedServices = [...local].filter(
    (service) =>
      (servedEndpoints as readonly ServiceName[]).includes(service) ||
      outboundLinks[service].some((endpoint) => linkMode(endpoint) === "remote"),
  );
  return {
    local,
    endpoints,
    listenHost: options.listenHost,
    servedEndpoints,
    attestedServices,
    linkMode,
    split: attestedServices.length > 0,
  };
}

/**
 * Parses `service=host:port` (an IPv6 host in brackets) into an internal endpoint's address,
 * as the `--endpoint` option of `cloister serve` takes it.
 */
export function parseEndpointAssignment(text: string): {
  endpoint: InternalEndpointName;
  address: EndpointAddress;
} {
  const match = /^([a-z_-]+)=(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text.trim());
  if (match === null) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid endpoint ${JSON.stringify(text)}: expected service=host:port, ` +
        "for example management=10.0.0.2:17777",
    );
  }
  const endpoint = parseServiceName(match[1]!);
  if (!isInternalEndpoint(endpoint)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `service ${endpoint} has no internal endpoint: expected one of ${internalEndpointNames.join(", ")}`,
    );
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid endpoint ${JSON.stringify(text)}: the port must be from 1 to 65535`,
    );
  }
  return { endpoint, address: { host: match[2]!.replace(/^\[|\]$/g, ""), port } };
}
