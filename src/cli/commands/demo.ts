import type { Command } from "commander";
import type { LogLevel } from "../../common/logger.ts";
import { runDemo } from "../../demo/run-demo.ts";

/** `cloister demo`: the multi-party examples of Teaclave, end to end on loopback. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "Start a temporary platform on loopback and run Teaclave's three-bank private join and " +
        "compute and two-party set intersection through the SDK",
    )
    .option("--log-level <level>", "service log level on stderr", "warn")
    .action(async (options: { logLevel: LogLevel }) => {
      try {
        const ok = await runDemo({
          logLevel: options.logLevel,
          report: (line) => console.log(line),
        });
        process.exitCode = ok ? 0 : 1;
      } catch (error) {
        console.error(
          `cloister demo failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        process.exitCode = 1;
      }
    });
}
