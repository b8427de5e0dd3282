import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConnectRouter, ServiceImpl, Transport } from "@connectrpc/connect";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import type { Logger } from "../common/logger.ts";
import { createExecutors } from "../executors/registry.ts";
import { AccessControl } from "../gen/cloister/internal/v1/access_control_pb.ts";
import { Management } from "../gen/cloister/internal/v1/management_pb.ts";
import { Scheduler } from "../gen/cloister/internal/v1/scheduler_pb.ts";
import {
  TeaclaveAuthenticationApi,
  TeaclaveAuthenticationInternal,
} from "../gen/teaclave_authentication_service_pb.ts";
import { TeaclaveFrontend } from "../gen/teaclave_frontend_service_pb.ts";
import { PlatformKey } from "../security/platform-key.ts";
import { TokenService } from "../security/token-service.ts";
import { createAccessControlService } from "../services/access-control/access-control-service.ts";
import { createAuthenticationApiService } from "../services/authentication/authentication-api-service.ts";
import { createAuthenticationInternalService } from "../services/authentication/authentication-internal-service.ts";
import { UserDirectory } from "../services/authentication/user-directory.ts";
import { ExecutionWorker } from "../services/execution/execution-worker.ts";
import { AuditBuffer } from "../services/frontend/audit-buffer.ts";
import { createFrontendService } from "../services/frontend/frontend-service.ts";
import { guardService } from "../services/guard-service.ts";
import { createManagementService } from "../services/management/management-service.ts";
import { ExecutorTracker } from "../services/scheduler/executor-tracker.ts";
import { LivenessMonitor } from "../services/scheduler/liveness-monitor.ts";
import { createSchedulerService } from "../services/scheduler/scheduler-service.ts";
import { TaskSignal } from "../services/scheduler/task-signal.ts";
import { SqliteStorage } from "../storage/sqlite-storage.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import { startRpcServer } from "../transport/rpc-server.ts";
import type { RpcServer } from "../transport/rpc-server.ts";
import {
  SIMULATION_NOTICE,
  SimulationEvidenceProvider,
  measureCode,
} from "../attestation/index.ts";
import { AttestedIdentity, scheduleRefresh } from "./attested-identity.ts";
import { createEvidenceProvider } from "./evidence-provider.ts";
import type { TeeMode } from "./evidence-provider.ts";
import { bootstrapAdmin } from "./bootstrap-admin.ts";
import type { PlatformConfig } from "./platform-config.ts";
import { platformPaths } from "./platform-config.ts";

/** A running all-in-one platform. */
export interface RunningPlatform {
  readonly authenticationPort: number;
  readonly frontendPort: number;
  /** The API endpoints' current TLS certificate (PEM), also in `tls/api-certificate.pem`. */
  readonly apiCertificatePem: string;
  /** What clients need to verify the platform's evidence. */
  readonly attestation: PlatformAttestation;
  /** The admin password generated on the first start; undefined on later starts. */
  readonly generatedAdminPassword: string | undefined;
  readonly storage: StorageBackend;
  /** In-process transports of the internal services, for tools and tests in this process. */
  readonly internalTransports: { readonly scheduler: Transport; readonly management: Transport };
  stop(): Promise<void>;
}

/** The platform's evidence source and, in simulation mode, the key and code it attests. */
export interface PlatformAttestation {
  readonly tee: TeeMode;
  /** The simulation attestation public key (PEM), which clients must trust; simulation only. */
  readonly simulationKeyPem?: string;
  /** Hex SHA-256 of the code that runs, as simulated evidence reports it; simulation only. */
  readonly measurement?: string;
}

/**
 * Starts every service in one process: authentication and frontend on their public TLS
 * ports, the internal services behind in-process transports, and the executor workers.
 */
export async function startPlatform(
  config: PlatformConfig,
  logger: Logger,
): Promise<RunningPlatform> {
  const paths = platformPaths(config.dataDirectory);
  await mkdir(config.dataDirectory, { recursive: true, mode: 0o700 });
  await mkdir(paths.tlsDirectory, { recursive: true });
  await mkdir(paths.workDirectory, { recursive: true });
  await mkdir(paths.fusionDirectory, { recursive: true });

  const storage = new SqliteStorage(paths.database);
  const platformKey = await PlatformKey.loadOrCreate(paths.platformKey);
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

  const taskSignal = new TaskSignal();
  const tracker = new ExecutorTracker();
  const inProcess = (
    service: Parameters<ConnectRouter["service"]>[0],
    implementation: object,
  ): Transport =>
    createRouterTransport((router) => router.service(service, implementation as never));

  const component = (name: string) => logger.child({ component: name });
  const managementTransport = inProcess(
    Management,
    guardService(
      notifyOnInvoke(
        createManagementService({ storage, platformKey, logger: component("management") }),
        taskSignal,
      ),
      component("management"),
      "management",
    ),
  );
  const schedulerTransport = inProcess(
    Scheduler,
    guardService(
      createSchedulerService({
        storage,
        platformKey,
        tracker,
        signal: taskSignal,
        logger: component("scheduler"),
        pullWaitMs: config.pullWaitMs,
        pullPollMs: 200,
      }),
      component("scheduler"),
      "scheduler",
    ),
  );
  const authenticationInternalTransport = inProcess(
    TeaclaveAuthenticationInternal,
    guardService(
      createAuthenticationInternalService(users),
      component("authentication"),
      "authentication",
    ),
  );
  const accessControlTransport = inProcess(
    AccessControl,
    guardService(createAccessControlService(), component("access-control"), "access-control"),
  );

  const management = createClient(Management, managementTransport);
  const audit = new AuditBuffer(
    (entries) => management.saveLogs({ logs: entries }).then(() => {}),
    component("frontend"),
  );
  const frontend = createFrontendService({
    authentication: createClient(TeaclaveAuthenticationInternal, authenticationInternalTransport),
    accessControl: createClient(AccessControl, accessControlTransport),
    management,
    audit,
    logger: component("frontend"),
  });

  const provider = await createEvidenceProvider(config.tee, config.dataDirectory);
  const attestation: PlatformAttestation =
    provider instanceof SimulationEvidenceProvider
      ? {
          tee: config.tee,
          simulationKeyPem: provider.publicKey.export({ type: "spki", format: "pem" }) as string,
          measurement: Buffer.from(measureCode()).toString("hex"),
        }
      : { tee: config.tee };
  if (config.tee === "simulation") {
    logger.warn({ tee: "simulation" }, SIMULATION_NOTICE);
    await writeFile(
      join(paths.tlsDirectory, "simulation-attestation-key.pub.pem"),
      attestation.simulationKeyPem ?? "",
    );
    await writeFile(
      join(paths.tlsDirectory, "measurement.txt"),
      `${attestation.measurement ?? ""}\n`,
    );
  }
  const identity = await AttestedIdentity.create(provider, "Teaclave");
  const apiCredentials = identity.credentials;
  await writeFile(join(paths.tlsDirectory, "api-certificate.pem"), apiCredentials.certificatePem);

  const servers: RpcServer[] = [];
  const workers: ExecutionWorker[] = [];
  const liveness = new LivenessMonitor({
    storage,
    tracker,
    logger: component("scheduler"),
    executorTimeoutMs: config.executorTimeoutMs,
  });
  const executors = createExecutors();
  try {
    servers.push(
      await startRpcServer({
        host: config.host,
        port: config.authenticationPort,
        credentials: apiCredentials,
        logger: component("authentication"),
        routes: (router) =>
          router.service(
            TeaclaveAuthenticationApi,
            guardService(
              createAuthenticationApiService(users),
              component("authentication"),
              "authentication",
            ),
          ),
      }),
    );
    servers.push(
      await startRpcServer({
        host: config.host,
        port: config.frontendPort,
        credentials: apiCredentials,
        logger: component("frontend"),
        routes: (router) => router.service(TeaclaveFrontend, frontend),
      }),
    );
    await liveness.start(Math.min(1000, config.executorTimeoutMs / 3));
    const scheduler = createClient(Scheduler, schedulerTransport);
    for (let index = 0; index < config.executorWorkers; index++) {
      const worker = new ExecutionWorker({
        executorId: `executor-${randomBytes(6).toString("hex")}`,
        scheduler,
        executors: new Map(executors.map((executor) => [executor.name, executor])),
        workDirectory: paths.workDirectory,
        fusionBaseDirectory: paths.fusionDirectory,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        maxOutputBytes: config.maxOutputBytes,
        logger: component("execution"),
        ...(config.fileHttpsCa === undefined ? {} : { httpsCa: config.fileHttpsCa }),
      });
      worker.start();
      workers.push(worker);
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    await storage.close();
    throw error;
  }

  let currentCertificatePem = apiCredentials.certificatePem;
  const refresher = scheduleRefresh(
    config.attestationRefreshMs,
    async () => {
      const credentials = await identity.refresh();
      for (const server of servers) server.setCredentials(credentials);
      currentCertificatePem = credentials.certificatePem;
      await writeFile(join(paths.tlsDirectory, "api-certificate.pem"), credentials.certificatePem);
    },
    component("attestation"),
  );

  logger.info(
    {
      authenticationPort: servers[0]?.port,
      frontendPort: servers[1]?.port,
      executorWorkers: workers.length,
      dataDirectory: config.dataDirectory,
    },
    "platform started",
  );

  let stopped: Promise<void> | undefined;
  return {
    authenticationPort: servers[0]?.port ?? 0,
    frontendPort: servers[1]?.port ?? 0,
    get apiCertificatePem() {
      return currentCertificatePem;
    },
    attestation,
    generatedAdminPassword,
    storage,
    internalTransports: { scheduler: schedulerTransport, management: managementTransport },
    stop() {
      stopped ??= (async () => {
        refresher.stop();
        await Promise.all(servers.map((server) => server.close()));
        await Promise.all(workers.map((worker) => worker.stop()));
        await Promise.all(executors.map((executor) => executor.close()));
        await liveness.stop();
        await audit.flush();
        await storage.close();
        logger.info("platform stopped");
      })();
      return stopped;
    },
  };
}

/** Wakes waiting executors as soon as management stages a task. */
function notifyOnInvoke(
  service: ServiceImpl<typeof Management>,
  signal: TaskSignal,
): ServiceImpl<typeof Management> {
  return {
    ...service,
    async invokeTask(request, context) {
      const response = await service.invokeTask(request, context);
      signal.notify();
      return response;
    },
  };
}
