// Echo tasks end to end through the public API over TLS: create, invoke, wait for the
// result. Prints one Markdown section; progress goes to stderr.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../src/common/logger.ts";
import { resolvePlatformConfig } from "../src/platform/platform-config.ts";
import { startPlatform } from "../src/platform/platform.ts";
import { AuthenticationClient } from "../src/sdk/authentication-client.ts";
import { FrontendClient } from "../src/sdk/frontend-client.ts";
import { simulationVerifier } from "../src/sdk/platform-verifier.ts";

const tasksPerLatencyRun = Number(process.env["BENCH_LATENCY_TASKS"] ?? 300);
const throughputSeconds = Number(process.env["BENCH_THROUGHPUT_SECONDS"] ?? 8);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const root = await mkdtemp(join(tmpdir(), "cloister-bench-"));
const platform = await startPlatform(
  resolvePlatformConfig({
    dataDirectory: root,
    authenticationPort: 0,
    frontendPort: 0,
    dev: true,
    executorWorkers: 2,
  }),
  createLogger({ level: "warn", destination: 2 }),
);
const verifyServer = simulationVerifier(
  platform.attestation.simulationKeyPem ?? "",
  platform.attestation.measurement ?? "",
);
async function session(id: string, password: string) {
  const authentication = new AuthenticationClient({
    address: `127.0.0.1:${platform.authenticationPort}`,
    verifyServer,
  });
  const frontend = new FrontendClient({
    address: `127.0.0.1:${platform.frontendPort}`,
    verifyServer,
  });
  frontend.setCredentials(await authentication.login(id, password));
  return { authentication, frontend };
}
const admin = await session("admin", "teaclave");
await admin.authentication.registerUser("bench-owner", "pw", "FunctionOwner");
await admin.authentication.registerUser("bench-user", "pw", "DataOwner", "bench");
const owner = await session("bench-owner", "pw");
const functionId = await owner.frontend.registerFunction({
  name: "builtin-echo",
  description: "benchmark",
  executorType: "builtin",
  public: true,
  arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
});

async function echoTask(
  client: FrontendClient,
): Promise<{ totalMs: number; invokeToResultMs: number }> {
  const started = performance.now();
  const taskId = await client.createTask({ functionId, arguments: { message: "bench" } });
  const invoked = performance.now();
  await client.invokeTask(taskId);
  const outcome = await client.waitForTask(taskId, { pollIntervalMs: 20 });
  if (outcome.returnValue !== "bench") throw new Error(`unexpected result ${outcome.returnValue}`);
  const ended = performance.now();
  return { totalMs: ended - started, invokeToResultMs: ended - invoked };
}

const user = await session("bench-user", "pw");
for (let index = 0; index < 30; index++) await echoTask(user.frontend);

process.stderr.write(`latency: ${tasksPerLatencyRun} sequential echo tasks\n`);
const totals: number[] = [];
const invokeToResult: number[] = [];
for (let index = 0; index < tasksPerLatencyRun; index++) {
  const sample = await echoTask(user.frontend);
  totals.push(sample.totalMs);
  invokeToResult.push(sample.invokeToResultMs);
}
totals.sort((a, b) => a - b);
invokeToResult.sort((a, b) => a - b);

const throughput: { clients: number; tasks: number; perSecond: number }[] = [];
for (const clients of [1, 8, 32]) {
  process.stderr.write(`throughput: ${clients} clients for ${throughputSeconds} s\n`);
  const sessions = await Promise.all(
    Array.from({ length: clients }, () => session("bench-user", "pw")),
  );
  const deadline = performance.now() + throughputSeconds * 1000;
  let completed = 0;
  const started = performance.now();
  await Promise.all(
    sessions.map(async ({ frontend }) => {
      while (performance.now() < deadline) {
        await echoTask(frontend);
        completed++;
      }
    }),
  );
  const elapsedSeconds = (performance.now() - started) / 1000;
  throughput.push({ clients, tasks: completed, perSecond: completed / elapsedSeconds });
}

await platform.stop();
await rm(root, { recursive: true, force: true });

const fixed = (value: number) => value.toFixed(1);
console.log(`## Echo tasks end to end

Each task is created, invoked and awaited with WaitTask through the public gRPC API over
attested TLS on loopback, against \`cloister serve\`'s all-in-one platform (SQLite, 2 executor
workers) in the same process as the clients.

| measure | value |
| --- | --- |
| one client, create → result, p50 | ${fixed(percentile(totals, 50))} ms |
| one client, create → result, p99 | ${fixed(percentile(totals, 99))} ms |
| one client, invoke → result, p50 | ${fixed(percentile(invokeToResult, 50))} ms |
| one client, invoke → result, p99 | ${fixed(percentile(invokeToResult, 99))} ms |
${throughput.map((row) => `| ${row.clients} concurrent clients | ${fixed(row.perSecond)} tasks/s (${row.tasks} tasks) |`).join("\n")}

Samples: ${tasksPerLatencyRun} sequential tasks for latency after 30 warm-up tasks;
${throughputSeconds} s per concurrency level. Command: \`npm run bench -- bench/platform.bench.ts\`.
Goal on this 2-core machine: 500 tasks/s and an invoke → result p50 under 10 ms.
`);
