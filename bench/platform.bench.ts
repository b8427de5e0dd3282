// Echo tasks end to end through the public API over TLS: create, invoke, wait for the
// result. The platform runs in this process and the clients in a child process, as they
// would on users' machines. Prints one Markdown section; progress goes to stderr.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../src/common/logger.ts";
import { resolvePlatformConfig } from "../src/platform/platform-config.ts";
import { startPlatform } from "../src/platform/platform.ts";
import { AuthenticationClient } from "../src/sdk/authentication-client.ts";
import { FrontendClient } from "../src/sdk/frontend-client.ts";
import { simulationVerifier } from "../src/sdk/platform-verifier.ts";
import type { EchoClientResults, EchoClientSettings } from "./support/echo-clients.ts";

const latencyTasks = Number(process.env["BENCH_LATENCY_TASKS"] ?? 300);
const throughputSeconds = Number(process.env["BENCH_THROUGHPUT_SECONDS"] ?? 8);
const concurrencyLevels = [1, 8, 32];

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
    executorWorkers: Number(process.env["BENCH_EXECUTORS"] ?? 2),
  }),
  createLogger({ level: "warn", destination: 2 }),
);
const simulationKeyPem = platform.attestation.simulationKeyPem ?? "";
const measurement = platform.attestation.measurement ?? "";
const verifyServer = simulationVerifier(simulationKeyPem, measurement);
const authenticationAddress = `127.0.0.1:${platform.authenticationPort}`;
const frontendAddress = `127.0.0.1:${platform.frontendPort}`;

async function session(id: string, password: string) {
  const authentication = new AuthenticationClient({ address: authenticationAddress, verifyServer });
  const frontend = new FrontendClient({ address: frontendAddress, verifyServer });
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

const settings: EchoClientSettings = {
  authenticationAddress,
  frontendAddress,
  simulationKeyPem,
  measurement,
  userId: "bench-user",
  password: "pw",
  functionId,
  warmUpTasks: 30,
  latencyTasks,
  throughputSeconds,
  concurrencyLevels,
};
const loadBefore = loadavg()[0] ?? 0;
// The platform's CPU time per throughput level, from the client process's start and end marks.
const serverCpuAtStart = new Map<number, NodeJS.CpuUsage>();
const serverCpuMs = new Map<number, number>();
const results = await new Promise<EchoClientResults>((resolve, reject) => {
  const child = spawn(
    process.execPath,
    [
      // A profiled benchmark (node --cpu-prof ...) profiles its clients too.
      ...process.execArgv.filter((flag) => flag.startsWith("--cpu-prof")),
      "--import",
      "tsx",
      new URL("./support/echo-clients.ts", import.meta.url).pathname,
    ],
    {
      env: { ...process.env, CLOISTER_ECHO_CLIENTS: JSON.stringify(settings) },
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.on("message", (mark: { level: number; phase: "start" | "end" }) => {
    if (mark.phase === "start") serverCpuAtStart.set(mark.level, process.cpuUsage());
    else {
      const cpu = process.cpuUsage(serverCpuAtStart.get(mark.level));
      serverCpuMs.set(mark.level, (cpu.user + cpu.system) / 1000);
    }
  });
  child.on("error", reject);
  child.on("close", (code) => {
    if (code !== 0) reject(new Error(`the echo clients exited with code ${code}`));
    else resolve(JSON.parse(output) as EchoClientResults);
  });
});

await platform.stop();
await rm(root, { recursive: true, force: true });

const totals = [...results.totalsMs].sort((a, b) => a - b);
const invokeToResult = [...results.invokeToResultMs].sort((a, b) => a - b);
const fixed = (value: number) => value.toFixed(1);
console.log(`## Echo tasks end to end

Each task is created, invoked and awaited with WaitTask through the public gRPC API over
attested TLS on loopback, against \`cloister serve\`'s all-in-one platform (SQLite, 2 executor
workers). The platform runs in the benchmark's process and the clients in one child process,
so each has a core of its own.

| measure | value |
| --- | --- |
| one client, create → result, p50 | ${fixed(percentile(totals, 50))} ms |
| one client, create → result, p99 | ${fixed(percentile(totals, 99))} ms |
| one client, invoke → result, p50 | ${fixed(percentile(invokeToResult, 50))} ms |
| one client, invoke → result, p99 | ${fixed(percentile(invokeToResult, 99))} ms |
${results.throughput.map((row) => `| ${row.clients} concurrent clients | ${fixed(row.perSecond)} tasks/s (${row.tasks} tasks) |`).join("\n")}

CPU time per task during the throughput runs, user plus system, in milliseconds. The platform
process runs everything but the clients; its figure bounds the throughput that one core can
give the all-in-one platform (1000 / ms per task).

| clients | platform CPU per task | client CPU per task |
| ---: | ---: | ---: |
${results.throughput.map((row) => `| ${row.clients} | ${((serverCpuMs.get(row.clients) ?? NaN) / row.tasks).toFixed(2)} ms | ${(row.clientCpuMs / row.tasks).toFixed(2)} ms |`).join("\n")}

Samples: ${latencyTasks} sequential tasks for latency after ${settings.warmUpTasks} warm-up tasks;
${throughputSeconds} s per concurrency level. The 1-minute load average was
${loadBefore.toFixed(1)} before the clients started. Command: \`npm run bench -- bench/platform.bench.ts\`.
Goal on this 2-core machine: 500 tasks/s and an invoke → result p50 under 10 ms.
`);
