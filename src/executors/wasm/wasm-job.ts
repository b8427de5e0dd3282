import type { ImportedMemoryLimits } from "../sandbox/wasm-memory-cap.ts";
import type { GuestOutput } from "../sandbox/staged-files.ts";

/** The job the host sends the WebAssembly worker for one run. */
export interface WasmJob {
  readonly module: WebAssembly.Module;
  readonly importedMemory: ImportedMemoryLimits | undefined;
  readonly argv: readonly string[];
  readonly inputs: Record<string, Uint8Array>;
  readonly outputNames: readonly string[];
  readonly outputLimitBytes: number;
}

/** The worker's result of a run that finished or trapped. */
export interface WasmResult {
  readonly summary: string;
  readonly outputs: GuestOutput[];
  /** The slot whose output went past the limit, if any. */
  readonly outputLimitExceeded: string | undefined;
}
