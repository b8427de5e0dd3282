import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConnectRouter, Transport } from "@connectrpc/connect";
import type { Logger } from "../common/logger.ts";
import { PlatformKey } from "../security/platform-key.ts";
import { TaskSignal } from "../services/scheduler/task-signal.ts";
import { SqliteStorage } from "../storage/sqlite-storage.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import { startRpcServer } from "../transport/rpc-server.ts";
import type { RpcServer } from "../transport/rpc-server.ts";
import { scheduleRefresh } from "./attested-identity.ts";
import { buildAuthentication } from "./build-authentication.ts";
import type { AuthenticationUnit } from "./build-authentication.ts";
import { buildExecution } from "./build-execution.ts";
import { buildFrontend } from "./build-frontend.ts";
import { buildAccessControl, buildManagement } from "./build-management.ts";
import { buildScheduler } from "./build-scheduler.ts";
import { planDeployment } from "./deployment-plan.ts";
import { linkTransport, serveInternalEndpoint } from "./internal-links.ts";
import { setUpAttestation } from "./platform-attestation.ts";
import type { PlatformAttestation } from "./platform-attestation.ts";
import type { PlatformConfig } from "./platform-config.ts";
import { platformPaths } from "./platform-config.ts";
import { loadPlatformKey } from "./load-platform-key.ts";
import { inProcessTransport } from "./service-unit.ts";
import type { ServiceContext, ServiceUnit } from "./service-unit.ts";
import type { InternalEndpointName, ServiceName } from "./service-topology.ts";

export type { PlatformAttestation } from "./platform-attestation.ts";

/** A running platform process: every service, or the subset its deployment names. */
export interface RunningPlatform {
  /** The authentication API port; 0 when authentication runs in another process. */
  readonly authenticationPort: number;
  /** The frontend API port; 0 when the frontend runs in another process. */
  readonly frontendPort: number;
  /** The API endpoints' current TLS certificate (PEM), also in `tls/api-certificate.pem`. */
  readonly apiCertificatePem: string;
  /** The trust anchor and measurement that clients use to verify the platform's evidence. */
  readonly attestation: PlatformAttestation;
  /** The admin password generated on the first start; undefined on later starts. */
  readonly generatedAdminPassword: string | undefined;
  readonly storage: StorageBackend;
  /**
   * In-process transports of the internal services, for tools and tests in this process. A
   * service that runs in another process gets a transport that returns UNIMPLEMENTED.
   */
  readonly internalTransports: { readonly scheduler: Transport; readonly management: Transport };
  /** The services this process runs. */
  readonly services: readonly ServiceName[];
  /** Ports of the internal endpoints this process serves over mutual attested TLS. */
  readonly internalPorts: Readonly<Partial<Record<InternalEndpointName, number>>>;
  stop(): Promise<void>;
}

/**
 * Starts the services of one process. With no deployment options every service runs here:
 * authentication and frontend on their public TLS ports, the internal services behind
 * in-process transports, and the executor workers. With `config.deployment.services` only
 * the named services run, and their links to the others go over mutual attested TLS.
 */
export async function startPlatform(
  config: PlatformConfig,
  logger: Logger,
): Promise<RunningPlatform> {
  const plan = planDeployment(config.deployment);
  const paths = platformPaths(config.dataDirectory);
  await mkdir(config.dataDirectory, { recursive: true, mode: 0o700 });
  await mkdir(paths.tlsDirectory, { recursive: true });
  await mkdir(paths.workDirectory, { recursive: true });
  await mkdir(paths.fusionDirectory, { recursive: true });

  const storage = new SqliteStorage(paths.database);
  const servers: RpcServer[] = [];
  const started: ServiceUnit[] = [];
  const stopUnits = async () => {
    for (const unit of started.reverse()) await unit.stop?.();
  };
  try {
    const context: ServiceContext = {
      config,
      paths,
      storage,
      platformKey: await loadPlatformKey(paths.platformKey),
      taskSignal: new TaskSignal(),
      component: (name) => logger.child({ component: name }),
    };

    // Services with an internal endpoint first, so that in-process links can reach them.
    const units: ServiceUnit[] = [];
    let authentication: AuthenticationUnit | undefined;
    if (plan.local.has("authentication")) {
      authentication = await buildAuthentication(context);
      units.push(authentication);
    }
    if (plan.local.has("management")) {
      units.push(buildManagement(context, { schedulerInProcess: plan.local.has("scheduler") }));
    }
    if (plan.local.has("access_control")) units.push(buildAccessControl(context));
    if (plan.local.has("scheduler")) {
      // Executors reach the scheduler from other processes only through its served endpoint.
      const remoteExecutors = plan.servedEndpoints.includes("scheduler");
      units.push(buildScheduler(context, { remoteExecutors }));
    }
    const localRoutes = new Map<InternalEndpointName, (router: ConnectRouter) => void>();
    for (const unit of units) {
      if (unit.internalRoutes !== undefined) {
        localRoutes.set(unit.name as InternalEndpointName, unit.internalRoutes);
      }
    }

    const setup = await setUpAttestation(config, plan, logger);
    const link = (from: ServiceName, endpoint: InternalEndpointName) =>
      linkTransport({
        plan,
        from,
        endpoint,
        localRoutes,
        setup,
        logger: context.component(from),
      });
    if (plan.local.has("frontend")) {
      units.push(
        buildFrontend(context, {
          authentication: link("frontend", "authentication"),
          management: link("frontend", "management"),
          accessControl: link("frontend", "access_control"),
        }),
      );
    }
    if (plan.local.has("execution")) {
      units.push(buildExecution(context, link("execution", "scheduler")));
    }

    const publicPorts = { authentication: 0, frontend: 0 };
    const apiIdentity = setup.apiIdentity;
    for (const unit of units) {
      if (unit.publicRoutes === undefined || apiIdentity === undefined) continue;
      const name = unit.name as "authentication" | "frontend";
      const server = await startRpcServer({
        host: config.host,
        port: name === "authentication" ? config.authenticationPort : config.frontendPort,
        credentials: apiIdentity.credentials,
        logger: context.component(name),
        routes: unit.publicRoutes,
      });
      servers.push(server);
      publicPorts[name] = server.port;
    }
    const internalServers = new Map<InternalEndpointName, RpcServer>();
    for (const endpoint of plan.servedEndpoints) {
      const server = await serveInternalEndpoint({
        plan,
        endpoint,
        routes: localRoutes.get(endpoint)!,
        setup,
        logger: context.component(endpoint),
      });
      servers.push(server);
      internalServers.set(endpoint, server);
    }
    for (const unit of units) {
      await unit.start?.();
      started.push(unit);
    }

    const apiCertificateFile = join(paths.tlsDirectory, "api-certificate.pem");
    let currentCertificatePem = apiIdentity?.credentials.certificatePem ?? "";
    if (apiIdentity !== undefined) await writeFile(apiCertificateFile, currentCertificatePem);
    const refresher = scheduleRefresh(
      config.attestationRefreshMs,
      async () => {
        for (const [endpoint, identity] of setup.serviceIdentities) {
          const credentials = await identity.refresh();
          internalServers.get(endpoint as InternalEndpointName)?.setCredentials(credentials);
        }
        if (apiIdentity === undefined) return;
        const credentials = await apiIdentity.refresh();
        for (const server of servers) {
          if (![...internalServers.values()].includes(server)) server.setCredentials(credentials);
        }
        currentCertificatePem = credentials.certificatePem;
        await writeFile(apiCertificateFile, credentials.certificatePem);
      },
      context.component("attestation"),
    );

    const internalPorts: Partial<Record<InternalEndpointName, number>> = {};
    for (const [endpoint, server] of internalServers) internalPorts[endpoint] = server.port;
    logger.info(
      {
        services: [...plan.local],
        authenticationPort: publicPorts.authentication,
        frontendPort: publicPorts.frontend,
        internalPorts,
        executorWorkers: plan.local.has("execution") ? config.executorWorkers : 0,
        dataDirectory: config.dataDirectory,
      },
      "platform started",
    );

    const localTransport = (endpoint: InternalEndpointName) =>
      inProcessTransport(localRoutes.get(endpoint) ?? (() => {}));
    let stopped: Promise<void> | undefined;
    return {
      authenticationPort: publicPorts.authentication,
      frontendPort: publicPorts.frontend,
      get apiCertificatePem() {
        return currentCertificatePem;
      },
      attestation: setup.attestation,
      generatedAdminPassword: authentication?.generatedAdminPassword,
      storage,
      internalTransports: {
        scheduler: localTransport("scheduler"),
        management: localTransport("management"),
      },
      services: [...plan.local],
      internalPorts,
      stop() {
        stopped ??= (async () => {
          refresher.stop();
          await Promise.all(servers.map((server) => server.close()));
          await stopUnits();
          await storage.close();
          logger.info("platform stopped");
        })();
        return stopped;
      },
    };
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    await stopUnits();
    await storage.close();
    throw error;
  }
}
