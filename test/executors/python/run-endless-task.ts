// Starts the Python executor on a task that never ends, for the orphan test in
// pyodide-process.test.ts, which kills this process with SIGKILL while the task runs.
import { MesapyExecutor } from "../../../src/executors/python/python-executor.ts";
import { TestFiles, makeRequest } from "../helpers.ts";

const executor = new MesapyExecutor({ maxInterpreters: 1 });
const files = await TestFiles.create({});
const limits = { cpuTimeMs: 600_000, memoryBytes: 128 * 2 ** 20 };
const signal = new AbortController().signal;
// A first, short task makes the memory snapshot, so the endless task starts quickly.
const warmUp = makeRequest({
  executorType: "python",
  payload: "def entrypoint(argv):\n    return 'ready'\n",
  limits,
});
await executor.execute(warmUp, files.runtime, signal);
const endless = makeRequest({
  executorType: "python",
  payload: "def entrypoint(argv):\n    while True:\n        pass\n",
  limits,
});
process.stdout.write("started\n");
await executor.execute(endless, files.runtime, signal);
