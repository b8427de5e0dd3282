import { existsSync } from "node:fs";
import type { Command } from "commander";
import { PlatformKey } from "../../security/platform-key.ts";
import { TokenService } from "../../security/token-service.ts";
import { SqliteStorage } from "../../storage/sqlite-storage.ts";
import { platformPaths } from "../../platform/platform-config.ts";

/** `cloister admin ...`: maintenance on a platform's data directory. */
export function registerAdminCommand(program: Command): void {
  const admin = program.command("admin").description("Maintenance on a platform's data directory");
  admin
    .command("rotate-token-key")
    .description(
      "Add a new token signing key; tokens signed by older keys stay valid until they expire. " +
        "Works while the platform runs.",
    )
    .option("--data-dir <path>", "the platform's data directory", ".cloister")
    .action(async (options: { dataDir: string }) => {
      const paths = platformPaths(options.dataDir);
      if (!existsSync(paths.database) || !existsSync(paths.platformKey)) {
        process.stderr.write(
          `cloister admin: no platform data in ${options.dataDir}: pass the --data-dir of the platform\n`,
        );
        process.exitCode = 2;
        return;
      }
      const storage = new SqliteStorage(paths.database);
      try {
        const platformKey = await PlatformKey.loadOrCreate(paths.platformKey);
        const tokens = await TokenService.open(storage, platformKey, {
          issuer: "Teaclave",
          lifetimeSeconds: 86_400,
        });
        console.log(`new signing key ${await tokens.rotate()}`);
      } catch (error) {
        process.stderr.write(`cloister admin: ${(error as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await storage.close();
      }
    });
}
