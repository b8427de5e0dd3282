// Measures the sandboxed executors: cold start (a new executor's first run), warm start (a
// trivial function on a warm worker), fib(25) computed recursively inside each sandbox, and
// how long a cancelled endless loop takes to stop. The same fib(25) runs in this Node.js
// process and in CPython (`python3` on the PATH) for comparison.
// Run: npm run bench -- bench/executors.bench.ts
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import wabtFactory from "wabt";
import type { ExecutionRequest, Executor } from "../src/executors/executor.ts";
import { JavaScriptExecutor } from "../src/executors/javascript/javascript-executor.ts";
import { MesapyExecutor } from "../src/executors/python/python-executor.ts";
import { WasmExecutor } from "../src/executors/wasm/wasm-executor.ts";
import { LocalFunctionRuntime } from "../src/functions/local-runtime.ts";

const coldRounds = 4;
const warmRounds = 20;
const computeRounds = 5;
const fibInput = 25;
const fibResult = "75025";

interface Workload {
  readonly name: string;
  readonly create: () => Executor;
  readonly executorType: string;
  readonly trivial: Uint8Array;
  /** Summary of the trivial function. */
  readonly trivialSummary: string;
  readonly fib: Uint8Array;
  readonly endless: Uint8Array;
}

interface Row {
  readonly name: string;
  /** The first cold start in this process, which also pays for one-time setup. */
  readonly firstColdMs: number;
  readonly coldMs: number;
  readonly warmMs: number;
  readonly fibMs: number;
  readonly stopMs: number | undefined;
}

const runtime = new LocalFunctionRuntime({ inputs: {}, outputs: {} });

function request(workload: Workload, payload: Uint8Array): ExecutionRequest {
  return {
    taskId: "task-bench",
    functionName: "bench",
    executorType: workload.executorType,
    arguments: { n: String(fibInput) },
    payload,
    limits: { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0 },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function expectSummary(
  executor: Executor,
  workload: Workload,
  payload: Uint8Array,
  expected: string,
): Promise<void> {
  const outcome = await executor.execute(
    request(workload, payload),
    runtime,
    new AbortController().signal,
  );
  if (outcome.summary !== expected) {
    throw new Error(`${workload.name} returned "${outcome.summary}", expected "${expected}"`);
  }
}

/** Time from aborting a running endless loop until execute() rejects. */
async function stopLatency(executor: Executor, workload: Workload): Promise<number> {
  const controller = new AbortController();
  const running = executor.execute(request(workload, workload.endless), runtime, controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const aborted = performance.now();
  controller.abort();
  await running.then(
    () => {
      throw new Error(`${workload.name} finished an endless loop`);
    },
    () => undefined,
  );
  return performance.now() - aborted;
}

async function measure(workload: Workload): Promise<Row> {
  // Each cold start uses a new executor, so its worker or interpreter starts from nothing.
  const cold: number[] = [];
  for (let round = 0; round < coldRounds; round++) {
    const executor = workload.create();
    cold.push(
      await timed(() =>
        expectSummary(executor, workload, workload.trivial, workload.trivialSummary),
      ),
    );
    await executor.close();
  }

  const executor = workload.create();
  await expectSummary(executor, workload, workload.trivial, workload.trivialSummary);
  const warm: number[] = [];
  for (let round = 0; round < warmRounds; round++) {
    warm.push(
      await timed(() =>
        expectSummary(executor, workload, workload.trivial, workload.trivialSummary),
      ),
    );
  }

  const fib: number[] = [];
  for (let round = 0; round < computeRounds; round++) {
    fib.push(await timed(() => expectSummary(executor, workload, workload.fib, fibResult)));
  }

  const stopMs = await stopLatency(executor, workload);
  await executor.close();
  console.error(`bench: ${workload.name} done`);
  return {
    name: workload.name,
    firstColdMs: cold[0]!,
    coldMs: median(cold.slice(1)),
    warmMs: median(warm),
    fibMs: median(fib),
    stopMs,
  };
}

function fibJs(n: number): number {
  return n < 2 ? n : fibJs(n - 1) + fibJs(n - 2);
}

function measureNode(): Row {
  const cold: number[] = [];
  for (let round = 0; round < coldRounds; round++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, ["-e", "process.stdout.write('ok')"], {
      encoding: "utf8",
    });
    if (result.stdout !== "ok") throw new Error("node did not start");
    cold.push(performance.now() - started);
  }
  const fib: number[] = [];
  for (let round = 0; round < computeRounds; round++) {
    const started = performance.now();
    if (String(fibJs(fibInput)) !== fibResult) throw new Error("fib in Node.js is wrong");
    fib.push(performance.now() - started);
  }
  const warm: number[] = [];
  const trivial = (): string => "ok";
  for (let round = 0; round < warmRounds; round++) {
    const started = performance.now();
    trivial();
    warm.push(performance.now() - started);
  }
  return {
    name: "plain Node.js (this process)",
    firstColdMs: cold[0]!,
    coldMs: median(cold.slice(1)),
    warmMs: median(warm),
    fibMs: median(fib),
    stopMs: undefined,
  };
}

const cpythonScript = `
import json, time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def trivial():
    return "ok"
fibs, warms = [], []
for _ in range(${computeRounds}):
    started = time.perf_counter()
    assert fib(${fibInput}) == ${fibResult}
    fibs.append((time.perf_counter() - started) * 1000)
for _ in range(${warmRounds}):
    started = time.perf_counter()
    trivial()
    warms.append((time.perf_counter() - started) * 1000)
print(json.dumps({"fib": sorted(fibs)[len(fibs) // 2], "warm": sorted(warms)[len(warms) // 2]}))
`;

function measureCpython(): Row | undefined {
  const version = spawnSync("python3", ["--version"], { encoding: "utf8" });
  if (version.status !== 0) {
    console.error("bench: python3 not found, skipping CPython");
    return undefined;
  }
  const cold: number[] = [];
  for (let round = 0; round < coldRounds; round++) {
    const started = performance.now();
    const result = spawnSync("python3", ["-c", "print('ok')"], { encoding: "utf8" });
    if (result.stdout.trim() !== "ok") throw new Error("python3 did not start");
    cold.push(performance.now() - started);
  }
  const result = spawnSync("python3", ["-c", cpythonScript], { encoding: "utf8" });
  const measured = JSON.parse(result.stdout) as { fib: number; warm: number };
  return {
    name: `plain CPython (${version.stdout.trim()})`,
    firstColdMs: cold[0]!,
    coldMs: median(cold.slice(1)),
    warmMs: measured.warm,
    fibMs: measured.fib,
    stopMs: undefined,
  };
}

function format(ms: number | undefined): string {
  if (ms === undefined) return "–";
  if (ms < 0.001) return "< 0.001";
  return ms < 1 ? ms.toFixed(3) : ms.toFixed(1);
}

async function wat(source: string): Promise<Uint8Array> {
  const wabt = await wabtFactory();
  const parsed = wabt.parseWat("bench.wat", source);
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

const text = (source: string): Uint8Array => Buffer.from(source, "utf8");

async function createWorkloads(): Promise<Workload[]> {
  return [
    {
      name: "WebAssembly (`wamr`)",
      create: () => new WasmExecutor({ maxWorkers: 1 }),
      executorType: "wamr",
      trivial: await wat(`(module (memory (export "memory") 1)
        (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))`),
      trivialSummary: "0",
      fib: await wat(`(module (memory (export "memory") 1)
        (func $fib (param $n i32) (result i32)
          (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
            (then (local.get $n))
            (else (i32.add
              (call $fib (i32.sub (local.get $n) (i32.const 1)))
              (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
        (func (export "entrypoint") (param i32 i32) (result i32)
          (call $fib (i32.const ${fibInput}))))`),
      endless: await wat(`(module (memory (export "memory") 1)
        (func (export "entrypoint") (param i32 i32) (result i32)
          (loop $spin (br $spin)) (i32.const 0)))`),
    },
    {
      name: "JavaScript (`javascript`, QuickJS)",
      create: () => new JavaScriptExecutor({ maxWorkers: 1 }),
      executorType: "javascript",
      trivial: text(`function entrypoint() { return "ok"; }`),
      trivialSummary: "ok",
      fib: text(`function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
        function entrypoint(argv) { return String(fib(Number(argv[1]))); }`),
      endless: text(`function entrypoint() { for (;;) {} }`),
    },
    {
      name: "Python (`mesapy`, Pyodide)",
      create: () => new MesapyExecutor({ maxInterpreters: 1 }),
      executorType: "python",
      trivial: text(`def entrypoint(argv):\n    return "ok"\n`),
      trivialSummary: "ok",
      fib: text(
        `def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n` +
          `def entrypoint(argv):\n    return str(fib(int(argv[1])))\n`,
      ),
      endless: text(`def entrypoint(argv):\n    while True:\n        pass\n`),
    },
  ];
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!.toFixed(1);
  const rows: Row[] = [];
  for (const workload of await createWorkloads()) {
    console.error(`bench: measuring ${workload.name}`);
    rows.push(await measure(workload));
  }
  rows.push(measureNode());
  const cpython = measureCpython();
  if (cpython !== undefined) rows.push(cpython);

  const lines = [
    "## Executors",
    "",
    `Milliseconds: the first cold start, then medians of ${coldRounds - 1} more cold starts, ` +
      `${warmRounds} warm runs and ${computeRounds} runs of recursive fib(${fibInput}). A cold ` +
      "start is a new executor's first run, including its worker thread or interpreter " +
      "process (for plain Node.js and CPython, a new process that prints one line). The " +
      "first one in a process also pays for one-time setup, such as the Python memory " +
      "snapshot. A warm run is a trivial function on a " +
      "warm worker, including staging files and the worker round trip. Stop is the time " +
      "from aborting a running endless loop until the run fails. The 1-minute load average " +
      `was ${loadAtStart} when the run started; other work on the machine inflates the cold ` +
      "starts most.",
    "",
    "| Runtime | First cold start | Cold start | Warm run | fib(25) | Stop after abort |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (row) =>
        `| ${row.name} | ${format(row.firstColdMs)} | ${format(row.coldMs)} | ` +
        `${format(row.warmMs)} | ` +
        `${format(row.fibMs)} | ${format(row.stopMs)} |`,
    ),
    "",
    "Command: `npm run bench -- bench/executors.bench.ts`",
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

await main();
