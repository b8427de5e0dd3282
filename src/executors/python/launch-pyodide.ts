import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CloisterError } from "../../common/errors.ts";
import { childProcessChannel } from "../sandbox/sandbox-channel.ts";
import type { SandboxChannel, SandboxReply } from "../sandbox/sandbox-channel.ts";
import { capModuleMemory, wasmPageBytes } from "../sandbox/wasm-memory-cap.ts";

const processScript = fileURLToPath(new URL("./pyodide-process.mjs", import.meta.url));
const pyodideFolder = dirname(createRequire(import.meta.url).resolve("pyodide"));
const pyodideWasm = join(pyodideFolder, "pyodide.asm.wasm");

/** Time a new interpreter has to load; a cold load takes about 2 s on an idle machine. */
const startTimeoutMs = 60_000;

/**
 * Node options of the interpreter process. The permission model lets it read only the
 * Pyodide package and the folder of its own script (which contains the Python sources), and
 * grants no file writes, child processes, worker threads or native addons.
 */
function interpreterOptions(): string[] {
  return [
    "--disallow-code-generation-from-strings",
    "--experimental-permission",
    `--allow-fs-read=${pyodideFolder}/*`,
    `--allow-fs-read=${dirname(processScript)}/*`,
    "--no-warnings",
  ];
}

/** Number of capped binaries (about 10 MB each) kept for reuse. */
const maxCachedBinaries = 4;
const cappedBinaries = new Map<number, Uint8Array>();
let originalBinary: Buffer | undefined;

/** Returns Pyodide's binary with its memory maximum lowered to `maxPages`. */
function cappedPyodideBinary(maxPages: number): { bytes: Uint8Array; originalLength: number } {
  originalBinary ??= readFileSync(pyodideWasm);
  let bytes = cappedBinaries.get(maxPages);
  if (bytes === undefined) {
    bytes = capModuleMemory(originalBinary, maxPages).bytes;
    if (cappedBinaries.size >= maxCachedBinaries) {
      cappedBinaries.delete(cappedBinaries.keys().next().value!);
    }
    cappedBinaries.set(maxPages, bytes);
  }
  return { bytes, originalLength: originalBinary.length };
}

/** Memory of the process that makes the snapshot; Python needs about 30 MiB. */
const snapshotMaxPages = 2048;
let snapshot: Promise<Uint8Array | undefined> | undefined;

/**
 * Returns the memory snapshot of a freshly loaded interpreter, made once per host process
 * in a process of its own, or undefined when it cannot be made.
 */
function interpreterSnapshot(): Promise<Uint8Array | undefined> {
  snapshot ??= new Promise<Uint8Array | undefined>((resolve) => {
    const { bytes, originalLength } = cappedPyodideBinary(snapshotMaxPages);
    const child = startInterpreterProcess();
    const channel = childProcessChannel(child);
    const timer = setTimeout(() => channel.kill(), startTimeoutMs);
    child.once("message", (message: SandboxReply) => {
      clearTimeout(timer);
      resolve(message.type === "done" ? (message.result as Uint8Array) : undefined);
    });
    channel.onExit(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
    channel.send({
      type: "snapshot",
      wasm: bytes,
      wasmLength: originalLength,
      indexURL: pathToFileURL(`${pyodideFolder}/`).href,
    });
  });
  return snapshot;
}

function startInterpreterProcess(): ChildProcess {
  return fork(processScript, [], {
    execArgv: interpreterOptions(),
    serialization: "advanced",
    stdio: ["ignore", "ignore", "ignore", "ipc"],
    env: {},
  });
}

/**
 * Starts a Pyodide interpreter process whose WebAssembly memory can grow to at most
 * `maxPages` pages, and resolves once Python is loaded and locked down. Processes start
 * from a shared memory snapshot when one could be made.
 */
export async function launchPyodide(maxPages: number): Promise<SandboxChannel> {
  const { bytes, originalLength } = cappedPyodideBinary(maxPages);
  const startSnapshot = await interpreterSnapshot();
  const child = startInterpreterProcess();
  const channel = childProcessChannel(child);
  return new Promise<SandboxChannel>((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.kill();
      reject(new CloisterError("UNAVAILABLE", `Pyodide did not load in ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.once("message", (message: SandboxReply) => {
      clearTimeout(timer);
      if (message.type === "ready") {
        resolve(channel);
        return;
      }
      channel.kill();
      const reason = message.type === "failed" ? message.message : "an unexpected message";
      reject(new CloisterError("UNAVAILABLE", `the Python interpreter failed to start: ${reason}`));
    });
    channel.onExit((reason) => {
      clearTimeout(timer);
      reject(new CloisterError("UNAVAILABLE", `the Python interpreter failed to start: ${reason}`));
    });
    const usable = startSnapshot !== undefined && startSnapshot.length <= maxPages * wasmPageBytes;
    channel.send({
      type: "init",
      wasm: bytes,
      wasmLength: originalLength,
      indexURL: pathToFileURL(`${pyodideFolder}/`).href,
      ...(usable ? { snapshot: startSnapshot } : {}),
    });
  });
}
