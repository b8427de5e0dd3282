import { InvalidArgumentError } from "commander";
import type { Command } from "commander";
import { join, resolve } from "node:path";
import { loadSimulationKey } from "../../attestation/simulation/attestation-key.ts";
import { CloisterError } from "../../common/errors.ts";
import { createLogger } from "../../common/logger.ts";
import type { LogLevel } from "../../common/logger.ts";
import { parseEndpointAssignment } from "../../platform/deployment-plan.ts";
import type { TeeMode } from "../../platform/evidence-provider.ts";
import type { DeploymentOptions, EndpointAddress } from "../../platform/deployment-plan.ts";
import { resolvePlatformConfig } from "../../platform/platform-config.ts";
import { startPlatform } from "../../platform/platform.ts";
import { simulatedEnclaveInfo } from "../../platform/service-identities.ts";
import type { IdentityListFiles } from "../../platform/service-identities.ts";
import { parseServiceList } from "../../platform/service-topology.ts";
import type { InternalEndpointName } from "../../platform/service-topology.ts";

function integer(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    }
    return parsed;
  };
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

interface ServeOptions {
  dataDir: string;
  host: string;
  authPort: number;
  frontendPort: number;
  executors: number;
  fileRoot: string[];
  dev: boolean;
  logLevel: string;
  tee: string;
  services: string;
  endpoint: string[];
  internalListen?: string;
  identityList?: string;
  auditorKey: string[];
  auditorSignature: string[];
  auditorThreshold?: number;
  printEnclaveInfo: boolean;
}

/** Turns the deployment options of `cloister serve` into the platform's settings. */
function deploymentFrom(options: ServeOptions): {
  deployment: DeploymentOptions;
  identityList?: IdentityListFiles;
} {
  const endpoints: Partial<Record<InternalEndpointName, EndpointAddress>> = {};
  for (const text of options.endpoint) {
    const { endpoint, address } = parseEndpointAssignment(text);
    if (endpoints[endpoint] !== undefined) {
      throw new CloisterError("INVALID_ARGUMENT", `--endpoint names ${endpoint} twice`);
    }
    endpoints[endpoint] = address;
  }
  const deployment: DeploymentOptions = {
    services: parseServiceList(options.services),
    endpoints,
    ...(options.internalListen === undefined ? {} : { listenHost: options.internalListen }),
  };
  if (options.identityList === undefined) {
    if (options.auditorKey.length > 0 || options.auditorSignature.length > 0) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        "--auditor-key and --auditor-signature need --identity-list",
      );
    }
    return { deployment };
  }
  return {
    deployment,
    identityList: {
      enclaveInfoPath: options.identityList,
      auditorKeyPaths: options.auditorKey,
      signaturePaths: options.auditorSignature,
      ...(options.auditorThreshold === undefined ? {} : { threshold: options.auditorThreshold }),
    },
  };
}

/** `cloister serve`: runs every service, or the named ones, until SIGINT or SIGTERM. */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description(
      "Start Cloister's services with an embedded SQLite store: all in one process by " +
        "default, or the ones --services names, linked to the others over mutual attested TLS",
    )
    .option("--data-dir <path>", "directory for the database, keys and work files", ".cloister")
    .option("--host <address>", "address of the public endpoints", "127.0.0.1")
    .option("--auth-port <port>", "authentication API port", integer("--auth-port"), 7776)
    .option("--frontend-port <port>", "frontend API port", integer("--frontend-port"), 7777)
    .option("--executors <count>", "number of executor workers", integer("--executors"), 2)
    .option(
      "--dev",
      "development mode: the first start creates the admin account admin / teaclave",
      false,
    )
    .option(
      "--file-root <directory>",
      "directory under which file:// input and output URLs may be read and written " +
        "(repeatable; without it file:// URLs are rejected)",
      (value: string, previous: string[]) => [...previous, resolve(value)],
      [] as string[],
    )
    .option("--log-level <level>", "fatal, error, warn, info, debug or trace", "info")
    .option(
      "--tee <mode>",
      "where the evidence comes from: simulation (no hardware protection), tsm (Linux " +
        "configfs-tsm in a TDX or SEV-SNP guest) or gramine (SGX under Gramine)",
      "simulation",
    )
    .option(
      "--services <list>",
      "services this process runs, comma-separated: authentication, frontend, management, " +
        "access_control, scheduler, execution, or all",
      "all",
    )
    .option(
      "--endpoint <service=host:port>",
      "address of an internal endpoint (authentication, management, access_control, " +
        "scheduler), where its service listens and the others connect; repeatable; default " +
        "127.0.0.1 with ports 17776, 17777, 17779 and 17780",
      collect,
      [],
    )
    .option(
      "--internal-listen <address>",
      "address the internal endpoints bind to, such as 0.0.0.0; default: the --endpoint host",
    )
    .option(
      "--identity-list <path>",
      "enclave_info.toml with the accepted service identities; default: computed from the code",
    )
    .option("--auditor-key <path>", "auditor RSA public key (PEM); repeatable", collect, [])
    .option(
      "--auditor-signature <path>",
      "auditor signature of the identity list (openssl dgst -sha256 -sign); repeatable",
      collect,
      [],
    )
    .option(
      "--auditor-threshold <count>",
      "distinct auditors that must sign the identity list; default: every --auditor-key",
      integer("--auditor-threshold"),
    )
    .option(
      "--print-enclave-info",
      "print the identity list of this build and data directory (simulation mode) and exit",
      false,
    )
    .action(async (options: ServeOptions) => {
      const logger = createLogger({ level: options.logLevel as LogLevel });
      try {
        if (options.printEnclaveInfo) {
          const key = loadSimulationKey(join(options.dataDir, "attestation"));
          process.stdout.write(simulatedEnclaveInfo(key.publicKey));
          return;
        }
        const platform = await startPlatform(
          resolvePlatformConfig({
            dataDirectory: options.dataDir,
            host: options.host,
            authenticationPort: options.authPort,
            frontendPort: options.frontendPort,
            executorWorkers: options.executors,
            dev: options.dev,
            logLevel: options.logLevel as LogLevel,
            tee: options.tee as TeeMode,
            fileRoots: options.fileRoot,
            ...deploymentFrom(options),
            ...(process.env["CLOISTER_ADMIN_PASSWORD"] === undefined
              ? {}
              : { adminPassword: process.env["CLOISTER_ADMIN_PASSWORD"] }),
          }),
          logger,
        );
        if (platform.generatedAdminPassword !== undefined) {
          // Shown once, on the terminal only: the log never carries it.
          process.stderr.write(
            `Created the administrator account "admin" with the password: ` +
              `${platform.generatedAdminPassword}\nStore it now; it is not shown again.\n`,
          );
        }
        const shutdown = async (signal: string) => {
          logger.info({ signal }, "stopping");
          await platform.stop();
          logger.flush();
          process.exit(0);
        };
        process.once("SIGINT", () => void shutdown("SIGINT"));
        process.once("SIGTERM", () => void shutdown("SIGTERM"));
      } catch (error) {
        const message = CloisterError.is(error) ? error.message : String(error);
        logger.error({ err: error }, "cloister serve failed to start");
        process.stderr.write(`cloister serve: ${message}\n`);
        logger.flush();
        process.exit(CloisterError.is(error) && error.code === "INVALID_ARGUMENT" ? 2 : 1);
      }
    });
}
