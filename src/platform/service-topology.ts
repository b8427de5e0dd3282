import { CloisterError } from "../common/errors.ts";

/**
 * The services of a deployment, named as in Teaclave's enclave_info tables
 * (`teaclave_<name>_service`). Storage is not listed: every service that needs it opens the
 * shared SQLite database itself.
 */
export type ServiceName =
  "authentication" | "frontend" | "management" | "access_control" | "scheduler" | "execution";

export const serviceNames: readonly ServiceName[] = [
  "authentication",
  "frontend",
  "management",
  "access_control",
  "scheduler",
  "execution",
];

/** Services with an internal endpoint that other services call. */
export type InternalEndpointName = "authentication" | "management" | "access_control" | "scheduler";

export const internalEndpointNames: readonly InternalEndpointName[] = [
  "authentication",
  "management",
  "access_control",
  "scheduler",
];

/**
 * The services each internal endpoint accepts, as Teaclave's `build.config.toml [inbound]`
 * lists them. Management is listed for access control although Cloister's management never
 * calls it.
 */
export const inboundLists: Readonly<Record<InternalEndpointName, readonly ServiceName[]>> = {
  authentication: ["frontend"],
  management: ["frontend"],
  access_control: ["frontend", "management"],
  scheduler: ["execution"],
};

/** Teaclave's internal ports (17778 was its storage service, which Cloister does not run). */
export const defaultInternalPorts: Readonly<Record<InternalEndpointName, number>> = {
  authentication: 17776,
  management: 17777,
  access_control: 17779,
  scheduler: 17780,
};

/** Parses a service name, accepting `access-control` as well as `access_control`. */
export function parseServiceName(text: string): ServiceName {
  const name = text.trim().replace(/-/g, "_");
  if (!(serviceNames as readonly string[]).includes(name)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid service ${JSON.stringify(text)}: expected one of ${serviceNames.join(", ")}`,
    );
  }
  return name as ServiceName;
}

/** Parses a comma-separated list of service names; `all` stands for every service. */
export function parseServiceList(text: string): ServiceName[] {
  if (text.trim() === "all") return [...serviceNames];
  const names = text
    .split(",")
    .filter((part) => part.trim() !== "")
    .map(parseServiceName);
  if (names.length === 0) {
    throw new CloisterError("INVALID_ARGUMENT", "the service list is empty: name at least one");
  }
  return [...new Set(names)];
}

/** Tells whether `name` has an internal endpoint. */
export function isInternalEndpoint(name: ServiceName): name is InternalEndpointName {
  return (internalEndpointNames as readonly string[]).includes(name);
}

/** The internal endpoints each service calls. */
export const outboundLinks: Readonly<Record<ServiceName, readonly InternalEndpointName[]>> = {
  authentication: [],
  frontend: ["authentication", "management", "access_control"],
  management: [],
  access_control: [],
  scheduler: [],
  execution: ["scheduler"],
};
