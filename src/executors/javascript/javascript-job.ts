import type { GuestOutput } from "../sandbox/staged-files.ts";

/** Initial size of QuickJS's linear memory in pages: 16 MiB, the size its build declares. */
export const quickjsInitialPages = 256;

/** The job the host sends the JavaScript worker for one run. */
export interface JavaScriptJob {
  readonly source: string;
  readonly argv: readonly string[];
  readonly inputs: Record<string, Uint8Array>;
  readonly outputNames: readonly string[];
  readonly outputLimitBytes: number;
  readonly memoryBytes: number;
  readonly cpuTimeMs: number;
}

/** The worker's result of a run that finished or threw. */
export interface JavaScriptResult {
  readonly summary: string;
  readonly outputs: GuestOutput[];
  readonly outputLimitExceeded: string | undefined;
  /** Console output, as `[LEVEL javascript] message` lines. */
  readonly log: string[];
}
