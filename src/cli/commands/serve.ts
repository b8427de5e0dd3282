import { InvalidArgumentError } from "commander";
import type { Command } from "commander";
import { CloisterError } from "../../common/errors.ts";
import { createLogger } from "../../common/logger.ts";
import type { LogLevel } from "../../common/logger.ts";
import { resolvePlatformConfig } from "../../platform/platform-config.ts";
import { startPlatform } from "../../platform/platform.ts";

function integer(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    }
    return parsed;
  };
}

/** `cloister serve`: runs every service in this process until SIGINT or SIGTERM. */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("Start every Cloister service in one process, with an embedded SQLite store")
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
    .option("--log-level <level>", "fatal, error, warn, info, debug or trace", "info")
    .action(async (options) => {
      const logger = createLogger({ level: options.logLevel as LogLevel });
      try {
        const platform = await startPlatform(
          resolvePlatformConfig({
            dataDirectory: options.dataDir,
            host: options.host,
            authenticationPort: options.authPort,
            frontendPort: options.frontendPort,
            executorWorkers: options.executors,
            dev: options.dev,
            logLevel: options.logLevel,
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
        process.stderr.write(`cloister serve: ${message}\n`);
        logger.flush();
        process.exit(CloisterError.is(error) && error.code === "INVALID_ARGUMENT" ? 2 : 1);
      }
    });
}
