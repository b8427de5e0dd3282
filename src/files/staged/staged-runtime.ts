import { CloisterError } from "../../common/errors.ts";
import type { FunctionInput, FunctionOutput, FunctionRuntime } from "../../functions/runtime.ts";
import { StagedFileWriter, readStagedFile } from "./staged-file.ts";

/** An input slot after download and verification: plaintext in a staged file. */
export interface StagedInput {
  readonly path: string;
  readonly key: Uint8Array;
  readonly size: number;
}

/** The staged file path of an output slot and the key that encrypts it. */
export interface StagedOutputTarget {
  readonly path: string;
  readonly key: Uint8Array;
}

/** Re-raises an integrity failure with a message that names only the slot. */
function slotIntegrityError(kind: "input" | "output", slot: string, error: unknown): unknown {
  if (CloisterError.is(error) && error.code === "INTEGRITY") {
    return new CloisterError("INTEGRITY", `${kind} "${slot}" failed its integrity check`);
  }
  return error;
}

async function* streamStagedInput(slot: string, input: StagedInput): AsyncGenerator<Buffer> {
  try {
    yield* readStagedFile(input.path, input.key);
  } catch (error) {
    throw slotIntegrityError("input", slot, error);
  }
}

/**
 * Streams the plaintext of an output's staged file, or nothing for a slot the function never
 * created, which Teaclave publishes as an empty file.
 */
export async function* readStagedOutput(
  slot: string,
  output: StagedOutput | undefined,
): AsyncGenerator<Buffer> {
  if (output === undefined) return;
  await output.close();
  try {
    yield* readStagedFile(output.path, output.key);
  } catch (error) {
    throw slotIntegrityError("output", slot, error);
  }
}

/** An output slot being written: every write goes, encrypted, to the staged file. */
export class StagedOutput implements FunctionOutput {
  readonly path: string;
  readonly key: Uint8Array;
  readonly #writer: StagedFileWriter;
  readonly #slot: string;
  readonly #maxBytes: number;
  /** Writes run one after another, even when the function does not await them. */
  #pending: Promise<void> = Promise.resolve();
  #reserved = 0;
  #closed = false;

  constructor(
    writer: StagedFileWriter,
    target: StagedOutputTarget,
    slot: string,
    maxBytes: number,
  ) {
    this.#writer = writer;
    this.path = target.path;
    this.key = target.key;
    this.#slot = slot;
    this.#maxBytes = maxBytes;
  }

  write(data: Uint8Array | string): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new CloisterError("FAILED_PRECONDITION", `output "${this.#slot}" is closed`),
      );
    }
    // A copy, because the function may reuse its buffer before the queued write runs.
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    if (this.#reserved + bytes.length > this.#maxBytes) {
      return Promise.reject(
        new CloisterError(
          "RESOURCE_EXHAUSTED",
          `output "${this.#slot}" exceeds its limit of ${this.#maxBytes} bytes`,
        ),
      );
    }
    this.#reserved += bytes.length;
    const written = this.#pending.then(() => this.#writer.write(bytes));
    this.#pending = written.catch(() => undefined);
    return written;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#pending = this.#pending.then(() => this.#writer.close());
    }
    return this.#pending;
  }

  /** Stops writing and removes the staged file. */
  async abort(): Promise<void> {
    this.#closed = true;
    await this.#pending;
    await this.#writer.abort();
  }
}

/** The FunctionRuntime of a platform run, over staged inputs and outputs. */
export class StagedRuntime implements FunctionRuntime {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly outputs = new Map<string, StagedOutput>();
  readonly #inputs: ReadonlyMap<string, StagedInput>;
  readonly #outputTargets: ReadonlyMap<string, StagedOutputTarget>;
  readonly #maxOutputBytes: number;
  readonly #created = new Set<string>();
  #sealed = false;

  constructor(
    inputs: ReadonlyMap<string, StagedInput>,
    outputTargets: ReadonlyMap<string, StagedOutputTarget>,
    maxOutputBytes: number,
  ) {
    this.#inputs = inputs;
    this.#outputTargets = outputTargets;
    this.#maxOutputBytes = maxOutputBytes;
    this.inputNames = [...inputs.keys()];
    this.outputNames = [...outputTargets.keys()];
  }

  /** Rejects further `createOutput` calls, once the outputs are being published. */
  seal(): void {
    this.#sealed = true;
  }

  async openInput(slot: string): Promise<FunctionInput> {
    const input = this.#inputs.get(slot);
    if (input === undefined) {
      throw new CloisterError("NOT_FOUND", `input slot "${slot}" is not granted to this run`);
    }
    return {
      size: input.size,
      readAll: async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of streamStagedInput(slot, input)) chunks.push(chunk);
        return Buffer.concat(chunks, input.size);
      },
      stream: () => streamStagedInput(slot, input),
    };
  }

  async createOutput(slot: string): Promise<FunctionOutput> {
    const target = this.#outputTargets.get(slot);
    if (target === undefined) {
      throw new CloisterError("NOT_FOUND", `output slot "${slot}" is not granted to this run`);
    }
    if (this.#sealed) {
      throw new CloisterError("FAILED_PRECONDITION", "outputs cannot be created after publishing");
    }
    if (this.#created.has(slot)) {
      throw new CloisterError("FAILED_PRECONDITION", `output slot "${slot}" was already created`);
    }
    this.#created.add(slot);
    const writer = await StagedFileWriter.create(target.path, target.key);
    const output = new StagedOutput(writer, target, slot, this.#maxOutputBytes);
    this.outputs.set(slot, output);
    return output;
  }
}
