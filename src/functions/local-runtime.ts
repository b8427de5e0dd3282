import { createReadStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { CloisterError } from "../common/errors.ts";
import type { FunctionInput, FunctionOutput, FunctionRuntime } from "./runtime.ts";

/** Options of a runtime over plain local files. */
export interface LocalRuntimeOptions {
  /** Input slot name to the path of a plaintext file. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Output slot name to the path of the file to create; an existing file is an error. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Maximum size of each output in bytes. */
  readonly maxOutputBytes?: number;
}

/**
 * A FunctionRuntime over plaintext files, for local runs (`cloister function run`) and tests.
 * It applies the same slot and size rules as the platform runtime but no file crypto.
 */
export class LocalFunctionRuntime implements FunctionRuntime {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly #options: LocalRuntimeOptions;
  readonly #created = new Set<string>();

  constructor(options: LocalRuntimeOptions) {
    this.#options = options;
    this.inputNames = Object.keys(options.inputs);
    this.outputNames = Object.keys(options.outputs);
  }

  async openInput(slot: string): Promise<FunctionInput> {
    const path = this.#options.inputs[slot];
    if (path === undefined) {
      throw new CloisterError("NOT_FOUND", `input slot "${slot}" is not granted to this run`);
    }
    const { size } = await stat(path);
    return {
      size,
      readAll: () => readFile(path),
      stream: () => createReadStream(path, { highWaterMark: 64 * 1024 }),
    };
  }

  async createOutput(slot: string): Promise<FunctionOutput> {
    const path = this.#options.outputs[slot];
    if (path === undefined) {
      throw new CloisterError("NOT_FOUND", `output slot "${slot}" is not granted to this run`);
    }
    if (this.#created.has(slot)) {
      throw new CloisterError("FAILED_PRECONDITION", `output slot "${slot}" was already created`);
    }
    this.#created.add(slot);
    let handle: FileHandle;
    try {
      handle = await open(path, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new CloisterError("ALREADY_EXISTS", `output file ${path} already exists`, {
          cause: error,
        });
      }
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `cannot create output file ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return new LocalOutput(handle, slot, this.#options.maxOutputBytes ?? Number.POSITIVE_INFINITY);
  }
}

class LocalOutput implements FunctionOutput {
  #written = 0;
  #closed = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly slot: string,
    private readonly maxBytes: number,
  ) {}

  async write(data: Uint8Array | string): Promise<void> {
    if (this.#closed) {
      throw new CloisterError("FAILED_PRECONDITION", `output "${this.slot}" is closed`);
    }
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (this.#written + bytes.length > this.maxBytes) {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `output "${this.slot}" exceeds its limit of ${this.maxBytes} bytes`,
      );
    }
    this.#written += bytes.length;
    await this.handle.write(bytes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.handle.close();
  }
}
