import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuiltinExecutor } from "../../src/executors/builtin-executor.ts";
import { LocalFunctionRuntime } from "../../src/functions/local-runtime.ts";

/** What one local run of a built-in produced. */
export interface BuiltinRunResult {
  readonly summary: string;
  /** Output slot name to the text written to it, or undefined when the slot was not created. */
  readonly outputs: Readonly<Record<string, string | undefined>>;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Runs a built-in function through the real executor over local files. Outputs go to a fresh
 * temporary folder, which is removed after they are read back as UTF-8.
 */
export async function runBuiltin(
  functionName: string,
  args: Record<string, unknown>,
  inputs: Record<string, string>,
  outputSlots: readonly string[] = [],
): Promise<BuiltinRunResult> {
  const folder = await mkdtemp(join(tmpdir(), "cloister-builtin-"));
  try {
    const outputPaths = Object.fromEntries(outputSlots.map((slot) => [slot, join(folder, slot)]));
    const runtime = new LocalFunctionRuntime({ inputs, outputs: outputPaths });
    const executor = new BuiltinExecutor();
    const { summary } = await executor.execute(
      {
        taskId: "local",
        functionName,
        executorType: "builtin",
        arguments: args,
        payload: new Uint8Array(),
        limits: { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0 },
      },
      runtime,
      new AbortController().signal,
    );
    const outputs: Record<string, string | undefined> = {};
    for (const [slot, path] of Object.entries(outputPaths)) {
      outputs[slot] = await readIfPresent(path);
    }
    return { summary, outputs };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

let inputFolder: string | undefined;

/** Writes `data` to a temporary input file and returns its path. The files go at process exit. */
export async function writeTempInput(name: string, data: string | Uint8Array): Promise<string> {
  if (inputFolder === undefined) {
    const folder = mkdtempSync(join(tmpdir(), "cloister-input-"));
    process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
    inputFolder = folder;
  }
  const path = join(inputFolder, `${Date.now()}-${Math.random().toString(36).slice(2)}-${name}`);
  await writeFile(path, data);
  return path;
}
