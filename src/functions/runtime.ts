/**
 * The interface between a function and the files its task granted. Every executor
 * (built-in, Python, WebAssembly, JavaScript) runs functions against this interface, both on
 * the platform and in local runs.
 */

/** An input slot opened for reading. The bytes are plaintext that has passed its integrity check. */
export interface FunctionInput {
  /** Size of the plaintext in bytes. */
  readonly size: number;
  /** Reads the whole plaintext. Use `stream()` for large inputs. */
  readAll(): Promise<Buffer>;
  /** Streams the plaintext in chunks; each call starts from the beginning. */
  stream(): AsyncIterable<Buffer>;
}

/** An output slot opened for writing. Bytes become visible to the owners only after a successful run. */
export interface FunctionOutput {
  write(data: Uint8Array | string): Promise<void>;
  /** Finishes the output. Writing after `close` raises an error. */
  close(): Promise<void>;
}

export interface FunctionRuntime {
  /** Names of the input slots that this run may open. */
  readonly inputNames: readonly string[];
  /** Names of the output slots that this run may create. */
  readonly outputNames: readonly string[];
  /**
   * Opens an input slot. Raises a CloisterError with code NOT_FOUND for a slot the task did
   * not grant, and INTEGRITY when the file fails its tag check.
   */
  openInput(slot: string): Promise<FunctionInput>;
  /**
   * Creates an output slot, once per run. Raises NOT_FOUND for a slot the task did not grant
   * and RESOURCE_EXHAUSTED when the output grows past its size limit.
   */
  createOutput(slot: string): Promise<FunctionOutput>;
}
