// A Pyodide interpreter in its own Node.js process, started by python-executor.ts. It runs
// one task and is then killed, and it exits by itself when its parent dies. This
// file is plain JavaScript because the process runs under Node's permission model, which
// stops tsx from starting the esbuild process it compiles TypeScript with.
//
// The parent starts it with --disallow-code-generation-from-strings, which disables eval and
// the Function constructor. So Python code that reaches a JavaScript object cannot compile
// new JavaScript. --experimental-permission grants read access to the Pyodide package and
// this folder only, and no file writes, child processes, workers or native addons. The
// process also gets an empty environment and no standard streams. After Pyodide loads, the
// host globals a guest could use are removed and the clocks are coarsened.
//
// Node 20's permission model does not cover the network. The guest still reaches none:
// process (and with it getBuiltinModule), fetch and WebSocket are gone, and Pyodide's
// sockets need the ws package, which this process is not allowed to read.
import { constants as fsConstants, readFileSync, readdirSync, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join } from "node:path";

/** Number of Python interrupt checks between two reads of the parent's process id. */
const parentCheckInterval = 100;
/** Granularity of the clocks that Python reads, in milliseconds. */
const clockResolutionMs = 100;
const guestFolder = new URL("./guest/", import.meta.url);
// Kept before lockDown() removes the global.
const hostProcess = process;
const send = (message) => hostProcess.send?.(message);
let runTask;
let pyodideApi;
// Each process runs one task, so that nothing a task changes reaches another task.
let ranTask = false;

hostProcess.on("disconnect", () => hostProcess.exit(0));
hostProcess.on("message", (message) => {
  if (message.type === "snapshot") {
    makeSnapshot(message).then(
      (snapshot) => {
        // Exit only once the snapshot has been handed to the IPC channel.
        hostProcess.send({ type: "done", result: snapshot }, () => hostProcess.exit(0));
      },
      (error) => {
        send({ type: "failed", code: "UNAVAILABLE", message: `Pyodide failed to load: ${error}` });
        hostProcess.exit(1);
      },
    );
  } else if (message.type === "init") {
    initialize(message).then(
      () => send({ type: "ready" }),
      (error) => {
        send({ type: "failed", code: "UNAVAILABLE", message: `Pyodide failed to load: ${error}` });
        hostProcess.exit(1);
      },
    );
  } else if (message.type === "run") {
    send(ranTask ? alreadyUsed() : run(message.job));
  } else if (message.type === "self-check") {
    send({ type: "done", result: checkConfinement() });
  }
});

/**
 * Loads Pyodide from the local package, with the binary whose memory maximum the parent
 * lowered to the task's memory limit. `options` are passed on to loadPyodide.
 */
async function loadLocalPyodide({ wasm, wasmLength, indexURL }, options) {
  // Pyodide's NODEFS reads file-mode constants through process.binding, which the
  // permission model forbids; nothing else is served.
  Object.defineProperty(hostProcess, "binding", {
    configurable: true,
    value: (name) => {
      if (name === "constants") return { fs: fsConstants, os: osConstants };
      throw new Error(`process.binding("${name}") is not available`);
    },
  });
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = (source, imports) =>
    instantiate(source?.byteLength === wasmLength ? wasm : source, imports);
  try {
    const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
    return await loadPyodide({
      indexURL: new URL(indexURL).pathname,
      packages: [],
      jsglobals: {},
      stdout: () => {},
      stderr: () => {},
      checkAPIVersion: true,
      ...options,
    });
  } finally {
    WebAssembly.instantiate = instantiate;
  }
}

/**
 * Loads Python, imports the standard modules the sandbox uses and returns a snapshot of the
 * interpreter's memory, from which later processes start about ten times faster. The
 * snapshot is taken before any function runs, so it contains no task data.
 */
async function makeSnapshot(message) {
  const pyodide = await loadLocalPyodide(message, { _makeSnapshot: true });
  pyodide.runPython("import ast, marshal, types, json, re, math, functools, collections");
  return pyodide.makeMemorySnapshot();
}

async function initialize(message) {
  let pyodide;
  if (message.snapshot !== undefined) {
    try {
      pyodide = await loadLocalPyodide(message, { _loadSnapshot: message.snapshot });
    } catch {
      // NOTE: a snapshot that fails to load falls back to a full load. The parent keeps
      // sending the same snapshot, so each later start then pays for both.
      pyodide = undefined;
    }
  }
  pyodide ??= await loadLocalPyodide(message, {});

  copyFolder(pyodide.FS, guestFolder, "/cloister");
  pyodide.runPython(
    "import sys\nsys.dont_write_bytecode = True\nsys.path.insert(0, '/cloister')\n" +
      "import cloister_sandbox",
  );
  runTask = pyodide.pyimport("cloister_sandbox").run_task_from_js;
  pyodideApi = pyodide;
  exitWithParent(pyodide);
  lockDown(pyodide);
}

/**
 * Makes the process exit when its parent dies, also while Python runs. The "disconnect"
 * handler cannot run then, because Python blocks the event loop. Python's eval loop reads
 * Pyodide's interrupt buffer from time to time, so a getter on it checks whether the
 * process was handed to a new parent.
 * NOTE: a single long call into C code (a huge integer power, for example) reads no
 * interrupt buffer, so the process exits only once that call returns.
 */
function exitWithParent(pyodide) {
  const parentPid = hostProcess.ppid;
  let checks = 0;
  pyodide.setInterruptBuffer({
    get 0() {
      checks += 1;
      if (checks % parentCheckInterval === 0 && hostProcess.ppid !== parentPid) {
        hostProcess.exit(1);
      }
      return 0;
    },
    set 0(value) {},
  });
}

function copyFolder(FS, folderUrl, target) {
  FS.mkdirTree(target);
  for (const name of readdirSync(folderUrl)) {
    const source = new URL(name, folderUrl);
    if (statSync(source).isDirectory()) {
      copyFolder(FS, new URL(`${name}/`, folderUrl), join(target, name));
    } else if (name.endsWith(".py")) {
      FS.writeFile(join(target, name), readFileSync(source));
    }
  }
}

function lockDown(pyodide) {
  const disabled = (name) => () => {
    throw new Error(`${name} is disabled in the Cloister Python executor`);
  };
  for (const name of [
    "loadPackage",
    "loadPackagesFromImports",
    "mountNodeFS",
    "mountNativeFS",
    "registerJsModule",
    "setStdin",
  ]) {
    if (name in pyodide) pyodide[name] = disabled(`pyodide.${name}`);
  }
  pyodide.FS.mount = disabled("FS.mount");
  for (const name of ["fetch", "WebSocket", "XMLHttpRequest", "EventSource", "navigator"]) {
    delete globalThis[name];
  }
  const preciseDateNow = Date.now;
  Date.now = () => Math.floor(preciseDateNow() / clockResolutionMs) * clockResolutionMs;
  const precisePerformanceNow = performance.now.bind(performance);
  performance.now = () =>
    Math.floor(precisePerformanceNow() / clockResolutionMs) * clockResolutionMs;
  // The IPC code above keeps its own reference to process. Without the global, Python code
  // that reaches a JavaScript object cannot find process.getBuiltinModule and its modules.
  delete globalThis.process;
}

function alreadyUsed() {
  return {
    type: "failed",
    code: "INTERNAL",
    message: "the Python interpreter already ran a task and cannot run another",
    retire: true,
  };
}

/**
 * Runs the task and returns the reply, which always sets `retire` so that the host kills the
 * process.
 */
function run(job) {
  ranTask = true;
  const slots = Object.keys(job.inputs);
  // IPC delivers Node Buffers, which Pyodide does not convert; plain views are converted.
  const datas = slots.map((slot) => {
    const data = job.inputs[slot];
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  });
  let proxy;
  try {
    proxy = runTask(job.source, job.argv, slots, datas, job.outputNames, job.outputLimitBytes);
    const result = proxy.toJs({ dict_converter: Object.fromEntries });
    return { ...reply(job, result), retire: true };
  } catch {
    // The traceback may quote input data, so it stays in this process.
    return {
      type: "failed",
      code: "INTERNAL",
      message: "the Python interpreter failed and will be restarted",
      retire: true,
    };
  } finally {
    proxy?.destroy();
  }
}

function reply(job, result) {
  if (result.memory_error) {
    return {
      type: "failed",
      code: "RESOURCE_EXHAUSTED",
      message: `the function ran out of its memory limit of ${job.memoryBytes} bytes`,
      retire: true,
    };
  }
  if (result.violation) {
    return { type: "failed", code: "PERMISSION_DENIED", message: result.violation };
  }
  const outputs = result.outputs.map(([slot, data]) => ({ slot, data: new Uint8Array(data) }));
  const oversized = outputs.find((output) => output.data.length > job.outputLimitBytes);
  const limitExceeded = result.limit_exceeded ?? oversized?.slot;
  if (limitExceeded) {
    return {
      type: "failed",
      code: "RESOURCE_EXHAUSTED",
      message: `output "${limitExceeded}" exceeds its limit of ${job.outputLimitBytes} bytes`,
    };
  }
  return { type: "done", result: { summary: result.summary, outputs, log: result.log } };
}

/**
 * Escapes a function could try if it got past the Python-level checks, each run as raw
 * Python with full access to Pyodide's `js` and `pyodide_js` modules. Each sets `outcome`;
 * the host's tests expect none of them to reach the host.
 */
const confinementProbes = {
  compileJavaScript: `
import pyodide_js
outcome = str(pyodide_js.constructor.constructor("return 1")())`,
  hostGlobals: `
import js
outcome = ",".join(name for name in ["process", "require", "fetch", "globalThis"] if hasattr(js, name))
outcome = outcome or "none"`,
  moduleHostObjects: `
import pyodide_js
names = ["process", "require", "fetch", "globalThis", "Buffer"]
found = [name for name in names if hasattr(pyodide_js, name) or hasattr(pyodide_js._module, name)]
outcome = ",".join(found) or "none"`,
  loadPackage: `
import pyodide_js
outcome = str(pyodide_js.loadPackage("numpy"))`,
  mountHostFiles: `
import pyodide_js
from pyodide.ffi import to_js
pyodide_js.FS.mount(pyodide_js.FS.filesystems.NODEFS, to_js({"root": "/etc"}), "/host")
outcome = open("/host/hostname").read()`,
  readHostFile: `
outcome = open("/etc/passwd").read()`,
  network: `
import socket
connection = socket.create_connection(("127.0.0.1", 80), timeout=1)
outcome = "connected"`,
  preciseClock: `
import time
samples = [time.time() * 1000 % 100 for _ in range(5)] + [time.perf_counter() * 1000 % 100]
outcome = "precise" if any(sample != 0 for sample in samples) else "coarse"`,
};

function checkConfinement() {
  const outcomes = {};
  for (const [name, code] of Object.entries(confinementProbes)) {
    const scope = pyodideApi.globals.get("dict")();
    try {
      pyodideApi.runPython(code, { globals: scope });
      outcomes[name] = `reached: ${String(scope.get("outcome")).slice(0, 200)}`;
    } catch (error) {
      outcomes[name] = `blocked: ${String(error).split("\n").filter(Boolean).pop()}`;
    } finally {
      scope.destroy();
    }
  }
  return outcomes;
}
