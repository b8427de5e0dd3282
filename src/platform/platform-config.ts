import { isAbsolute, join } from "node:path";
import { CloisterError } from "../common/errors.ts";
import type { LogLevel } from "../common/logger.ts";
import type { DeploymentOptions } from "./deployment-plan.ts";
import { teeModes } from "./evidence-provider.ts";
import type { TeeMode } from "./evidence-provider.ts";
import type { IdentityListFiles } from "./service-identities.ts";

/** Settings of a Cloister platform process. Durations are in milliseconds. */
export interface PlatformConfig {
  /** Holds the database, the platform key, TLS material and task work files. */
  readonly dataDirectory: string;
  /** Address the public endpoints listen on. */
  readonly host: string;
  /** Authentication API port; Teaclave's default is 7776. 0 picks a free port. */
  readonly authenticationPort: number;
  /** Frontend API port; Teaclave's default is 7777. 0 picks a free port. */
  readonly frontendPort: number;
  /** Development mode: the first start creates Teaclave's admin account `admin` / `teaclave`. */
  readonly dev: boolean;
  /** Password of the admin account created on the first start; generated when unset. */
  readonly adminPassword?: string;
  /** Number of executor workers, each running one task at a time; 0 when they run elsewhere. */
  readonly executorWorkers: number;
  /** An executor silent this long is lost and its task fails. */
  readonly executorTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How long an idle executor's PullTask waits for work before it returns empty. */
  readonly pullWaitMs: number;
  /** Maximum size of each task output in bytes. */
  readonly maxOutputBytes: number;
  /** Lifetime of login tokens in seconds; Teaclave's is 24 hours. */
  readonly tokenLifetimeSeconds: number;
  readonly logLevel: LogLevel;
  /** Source of attestation evidence for the services' TLS certificates. */
  readonly tee: TeeMode;
  /** How often the services make a new TLS key with fresh evidence; Teaclave's is 1 hour. */
  readonly attestationRefreshMs: number;
  /**
   * Directories under which `file:` URLs may read inputs and write outputs. The data
   * directory is always excluded. Empty (the default) disables `file:` URLs.
   */
  readonly fileRoots: readonly string[];
  /** CA certificate (PEM) that https file URLs may chain to, besides the system roots. */
  readonly fileHttpsCa?: string;
  /** The services this process runs and where the others are. Default: all, in-process. */
  readonly deployment?: DeploymentOptions;
  /** Signed identities of the services, for internal links. Default: computed from the code. */
  readonly identityList?: IdentityListFiles;
}

export const defaultPlatformConfig = {
  host: "127.0.0.1",
  authenticationPort: 7776,
  frontendPort: 7777,
  dev: false,
  executorWorkers: 2,
  executorTimeoutMs: 30_000,
  heartbeatIntervalMs: 1_000,
  pullWaitMs: 10_000,
  maxOutputBytes: 1024 ** 3,
  tokenLifetimeSeconds: 86_400,
  logLevel: "info",
  tee: "simulation",
  fileRoots: [],
  attestationRefreshMs: 3_600_000,
} as const satisfies Omit<PlatformConfig, "dataDirectory">;

/** Fills in defaults and validates each setting, naming the one that is wrong. */
export function resolvePlatformConfig(
  partial: Partial<PlatformConfig> & { dataDirectory: string },
): PlatformConfig {
  const config: PlatformConfig = { ...defaultPlatformConfig, ...partial };
  if (!Number.isInteger(config.executorWorkers) || config.executorWorkers < 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `setting executorWorkers must be a non-negative integer, got ${config.executorWorkers}`,
    );
  }
  const positive: (keyof PlatformConfig)[] = [
    "executorTimeoutMs",
    "heartbeatIntervalMs",
    "pullWaitMs",
    "maxOutputBytes",
    "tokenLifetimeSeconds",
    "attestationRefreshMs",
  ];
  for (const name of positive) {
    const value = config[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `setting ${name} must be a positive integer, got ${String(value)}`,
      );
    }
  }
  for (const name of ["authenticationPort", "frontendPort"] as const) {
    const value = config[name];
    if (!Number.isInteger(value) || value < 0 || value > 65_535) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `setting ${name} must be a port from 0 to 65535, got ${value}`,
      );
    }
  }
  for (const root of config.fileRoots) {
    if (!isAbsolute(root)) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `setting fileRoots must list absolute directories, got ${JSON.stringify(root)}`,
      );
    }
  }
  if (!teeModes.includes(config.tee)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `setting tee must be one of ${teeModes.join(", ")}, got ${JSON.stringify(config.tee)}`,
    );
  }
  if (config.heartbeatIntervalMs * 3 > config.executorTimeoutMs) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "setting executorTimeoutMs must be at least three heartbeat intervals",
    );
  }
  return config;
}

/** Paths inside the data directory. */
export function platformPaths(dataDirectory: string) {
  return {
    database: join(dataDirectory, "cloister.db"),
    schedulerLock: join(dataDirectory, "scheduler.lock"),
    platformKey: join(dataDirectory, "platform.key"),
    tlsDirectory: join(dataDirectory, "tls"),
    workDirectory: join(dataDirectory, "work"),
    fusionDirectory: join(dataDirectory, "fusion"),
  };
}
