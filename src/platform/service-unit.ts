import { createDirectTransport } from "../transport/direct-transport.ts";
import type { ConnectRouter, ServiceImpl, Transport } from "@connectrpc/connect";
import type { Logger } from "../common/logger.ts";
import type { PlatformKey } from "../security/platform-key.ts";
import type { TaskSignal } from "../services/scheduler/task-signal.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import type { PlatformConfig } from "./platform-config.ts";
import { platformPaths } from "./platform-config.ts";
import type { ServiceName } from "./service-topology.ts";

/** The state that every service builder of one process shares. */
export interface ServiceContext {
  readonly config: PlatformConfig;
  readonly paths: ReturnType<typeof platformPaths>;
  readonly storage: StorageBackend;
  readonly platformKey: PlatformKey;
  /** Wakes the in-process scheduler when management stages a task. */
  readonly taskSignal: TaskSignal;
  /** Returns the logger of one component. */
  component(name: string): Logger;
}

/** One built service: its endpoints as router registrations, and its lifecycle. */
export interface ServiceUnit {
  readonly name: ServiceName;
  /** Registers the internal endpoint, for services that other services call. */
  readonly internalRoutes?: (router: ConnectRouter) => void;
  /** Registers the public API, for authentication (port 7776) and frontend (7777). */
  readonly publicRoutes?: (router: ConnectRouter) => void;
  /** Starts background work such as timers and worker loops. */
  start?(): Promise<void>;
  /** Stops background work; the servers are closed before. */
  stop?(): Promise<void>;
}

/** Returns a router registration for one service implementation. */
export function routesOf(
  service: Parameters<ConnectRouter["service"]>[0],
  implementation: ServiceImpl<typeof service> | object,
): (router: ConnectRouter) => void {
  return (router) => router.service(service, implementation as never);
}

/**
 * Returns an in-process transport to an internal endpoint. It calls the same handlers as
 * the network endpoint would, without encoding the messages.
 */
export function inProcessTransport(routes: (router: ConnectRouter) => void): Transport {
  return createDirectTransport(routes);
}
