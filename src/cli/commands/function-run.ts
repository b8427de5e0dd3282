import { constants } from "node:fs";
import { access, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { Command } from "commander";
import { CloisterError } from "../../common/errors.ts";
import { createExecutors } from "../../executors/registry.ts";
import type { Executor } from "../../executors/executor.ts";
import { LocalFunctionRuntime } from "../../functions/local-runtime.ts";

/** Exit code for input the command cannot use: bad options, files, slots or arguments. */
const exitUnusableInput = 2;
/** Exit code for a run that was rejected or failed. */
const exitFailed = 1;

/** Error codes that mean the caller's input was unusable, as opposed to a failed run. */
const unusableInputCodes = new Set(["INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS"]);

interface FunctionRunOptions {
  readonly executor: string;
  readonly name: string;
  readonly args: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly payload?: string;
}

class UsageError extends Error {}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

/** Parses repeated `SLOT=FILE` options into a map and rejects repeated slots. */
function parseSlots(values: readonly string[], option: string): Record<string, string> {
  const slots: Record<string, string> = {};
  for (const value of values) {
    const separator = value.indexOf("=");
    if (separator <= 0 || separator === value.length - 1) {
      throw new UsageError(`${option} ${JSON.stringify(value)} must have the form SLOT=FILE`);
    }
    const slot = value.slice(0, separator);
    if (slot in slots) throw new UsageError(`${option} names slot "${slot}" twice`);
    slots[slot] = value.slice(separator + 1);
  }
  return slots;
}

function parseArguments(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`--args is not valid JSON (${reason}); pass an object such as '{"n":1}'`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--args must be a JSON object, got ${JSON.stringify(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function runFunction(options: FunctionRunOptions): Promise<void> {
  const args = parseArguments(options.args);
  const inputs = parseSlots(options.input, "--input");
  const outputs = parseSlots(options.output, "--output");
  for (const [slot, path] of Object.entries(inputs)) {
    if (!(await exists(path))) {
      throw new UsageError(`input file ${path} for slot "${slot}" not found`);
    }
  }
  for (const [slot, path] of Object.entries(outputs)) {
    if (!(await exists(dirname(path)))) {
      throw new UsageError(`folder ${dirname(path)} of output file for slot "${slot}" not found`);
    }
    if (await exists(path)) {
      throw new UsageError(
        `output file ${path} for slot "${slot}" already exists; remove it or choose another path`,
      );
    }
  }
  const payload =
    options.payload === undefined ? new Uint8Array() : await readPayload(options.payload);

  const executors = createExecutors();
  try {
    const executor = findExecutor(executors, options.executor);
    if (options.payload === undefined && executor.executorType !== "builtin") {
      throw new UsageError(
        `--executor ${options.executor} runs user code: pass it with --payload FILE`,
      );
    }
    const runtime = new LocalFunctionRuntime({ inputs, outputs });
    const abort = new AbortController();
    const onInterrupt = (): void => abort.abort(new CloisterError("ABORTED", "interrupted"));
    process.once("SIGINT", onInterrupt);
    try {
      const outcome = await executor.execute(
        {
          taskId: "local",
          functionName: options.name,
          executorType: executor.executorType,
          arguments: args,
          payload,
          limits: { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0 },
        },
        runtime,
        abort.signal,
      );
      for (const line of outcome.log) process.stderr.write(`${line}\n`);
      process.stdout.write(`${outcome.summary}\n`);
    } catch (error) {
      // A failed run publishes nothing, as on the platform, so partial outputs are removed.
      // Every output path was checked to be absent before the run.
      await Promise.all(Object.values(outputs).map((path) => rm(path, { force: true })));
      throw error;
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  } finally {
    await Promise.all(executors.map((executor) => executor.close()));
  }
}

async function readPayload(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`payload file ${path} cannot be read: ${(error as Error).message}`);
  }
}

function findExecutor(executors: readonly Executor[], name: string): Executor {
  const executor = executors.find((candidate) => candidate.name === name);
  if (executor === undefined) {
    const names = executors.map((candidate) => candidate.name).join(", ");
    throw new UsageError(`unknown executor "${name}"; this build offers: ${names}`);
  }
  return executor;
}

/**
 * Registers `cloister function run`: runs one function through the platform's executor code
 * on plain local files, without starting any service, and prints its summary.
 */
export function registerFunctionRunCommand(program: Command): void {
  const functionCommand = program
    .command("function")
    .description("Work with functions outside the platform");
  functionCommand
    .command("run")
    .description("Run one function on local plaintext files and print its summary")
    .requiredOption("--name <name>", "function name, for example builtin-echo")
    .option(
      "--executor <executor>",
      "executor that runs the function (builtin, mesapy, ...)",
      "builtin",
    )
    .option("--args <json>", "function arguments as one JSON object", "{}")
    .option("--input <slot=file>", "input slot and the file it reads; repeatable", collect, [])
    .option(
      "--output <slot=file>",
      "output slot and the new file it writes; repeatable",
      collect,
      [],
    )
    .option("--payload <file>", "function code for the mesapy, wamr and javascript executors")
    .exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : exitUnusableInput);
    })
    .action(async (options: FunctionRunOptions) => {
      try {
        await runFunction(options);
      } catch (error) {
        process.exitCode = reportFailure(error);
      }
    });
}

/** Prints the failure to stderr and returns the exit code for it. */
function reportFailure(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    return exitUnusableInput;
  }
  if (CloisterError.is(error)) {
    const slot = /^(input|output) slot "([^"]+)" is not granted/.exec(error.message);
    const hint = slot === null ? "" : `; pass it with --${slot[1]} ${slot[2]}=FILE`;
    process.stderr.write(`error: ${error.message}${hint}\n`);
    return unusableInputCodes.has(error.code) ? exitUnusableInput : exitFailed;
  }
  process.stderr.write(`error: the function run failed: ${String(error)}\n`);
  return exitFailed;
}
