import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtFactory from "wabt";
import type { ExecutionLimits, ExecutionRequest } from "../../src/executors/executor.ts";
import { LocalFunctionRuntime } from "../../src/functions/local-runtime.ts";

/** Compiles WebAssembly text to a binary with wabt. */
export async function watToWasm(source: string): Promise<Uint8Array> {
  const wabt = await wabtFactory();
  const parsed = wabt.parseWat("test.wat", source);
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

/** Reads a WebAssembly text file beside this helper and compiles it. */
export async function compileWatFile(name: string): Promise<Uint8Array> {
  const source = await readFile(new URL(`./wasm/${name}`, import.meta.url), "utf8");
  return watToWasm(source);
}

export interface RequestFields {
  readonly executorType: string;
  readonly payload: Uint8Array | string;
  readonly arguments?: Record<string, unknown>;
  readonly limits?: Partial<ExecutionLimits>;
}

export function makeRequest(fields: RequestFields): ExecutionRequest {
  const payload =
    typeof fields.payload === "string" ? Buffer.from(fields.payload, "utf8") : fields.payload;
  return {
    taskId: "task-test",
    functionName: "test-function",
    executorType: fields.executorType,
    arguments: fields.arguments ?? {},
    payload,
    limits: { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0, ...fields.limits },
  };
}

/** A local runtime with output files in a fresh temporary folder. */
export class TestFiles {
  readonly runtime: LocalFunctionRuntime;
  readonly #folder: string;

  private constructor(folder: string, runtime: LocalFunctionRuntime) {
    this.#folder = folder;
    this.runtime = runtime;
  }

  static async create(
    inputs: Record<string, string>,
    outputSlots: readonly string[] = [],
    maxOutputBytes?: number,
  ): Promise<TestFiles> {
    const folder = await mkdtemp(join(tmpdir(), "cloister-executor-test-"));
    const outputs = Object.fromEntries(outputSlots.map((slot) => [slot, join(folder, slot)]));
    const runtime = new LocalFunctionRuntime({
      inputs,
      outputs,
      ...(maxOutputBytes === undefined ? {} : { maxOutputBytes }),
    });
    return new TestFiles(folder, runtime);
  }

  /** Path of an output file, to pass it to a later run as an input. */
  outputPath(slot: string): string {
    return join(this.#folder, slot);
  }

  async output(slot: string): Promise<string> {
    return readFile(join(this.#folder, slot), "utf8");
  }

  async outputBytes(slot: string): Promise<Buffer> {
    return readFile(join(this.#folder, slot));
  }

  async outputExists(slot: string): Promise<boolean> {
    return readFile(join(this.#folder, slot)).then(
      () => true,
      () => false,
    );
  }

  async remove(): Promise<void> {
    await rm(this.#folder, { recursive: true, force: true });
  }
}
