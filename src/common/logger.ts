import { pino } from "pino";
import type { Logger } from "pino";

export type { Logger };

/** Log levels accepted by `createLogger`. */
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * Creates the structured JSON logger of a service process. Secrets are redacted by field
 * name as a second line of defence; code must still never pass them.
 */
export function createLogger(options: { level?: LogLevel; destination?: number } = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "cloister" },
      redact: {
        paths: ["password", "token", "key", "*.password", "*.token", "*.key", "*.secret"],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: options.destination ?? 1, sync: false }),
  );
}
