// The client side of the echo benchmark, run in its own process so that the clients do not
// share the platform's event loop. It reads its settings as JSON from the
// CLOISTER_ECHO_CLIENTS variable, writes progress to stderr and one JSON result to stdout.
// Over the IPC channel it marks the start and end of each throughput level, so that the
// benchmark can measure the platform's CPU time for exactly that span.
import { AuthenticationClient } from "../../src/sdk/authentication-client.ts";
import { FrontendClient } from "../../src/sdk/frontend-client.ts";
import { simulationVerifier } from "../../src/sdk/platform-verifier.ts";

/** Settings that the benchmark passes to this process. */
export interface EchoClientSettings {
  readonly authenticationAddress: string;
  readonly frontendAddress: string;
  readonly simulationKeyPem: string;
  readonly measurement: string;
  readonly userId: string;
  readonly password: string;
  readonly functionId: string;
  readonly warmUpTasks: number;
  readonly latencyTasks: number;
  readonly throughputSeconds: number;
  readonly concurrencyLevels: readonly number[];
}

/** Measurements that this process returns. */
export interface EchoClientResults {
  /** Create → result and invoke → result of each sequential task, in milliseconds. */
  readonly totalsMs: number[];
  readonly invokeToResultMs: number[];
  readonly throughput: {
    clients: number;
    tasks: number;
    perSecond: number;
    /** CPU time (user and system) that this process spent on the level, in milliseconds. */
    clientCpuMs: number;
  }[];
}

const settings = JSON.parse(process.env["CLOISTER_ECHO_CLIENTS"] ?? "{}") as EchoClientSettings;
const verifyServer = simulationVerifier(settings.simulationKeyPem, settings.measurement);

async function connect(): Promise<FrontendClient> {
  const authentication = new AuthenticationClient({
    address: settings.authenticationAddress,
    verifyServer,
  });
  const frontend = new FrontendClient({ address: settings.frontendAddress, verifyServer });
  frontend.setCredentials(await authentication.login(settings.userId, settings.password));
  return frontend;
}

async function echoTask(
  client: FrontendClient,
): Promise<{ totalMs: number; invokeToResultMs: number }> {
  const started = performance.now();
  const taskId = await client.createTask({
    functionId: settings.functionId,
    arguments: { message: "bench" },
  });
  const invoked = performance.now();
  await client.invokeTask(taskId);
  const outcome = await client.waitForTask(taskId);
  if (outcome.returnValue !== "bench") throw new Error(`unexpected result ${outcome.returnValue}`);
  const ended = performance.now();
  return { totalMs: ended - started, invokeToResultMs: ended - invoked };
}

const client = await connect();
for (let index = 0; index < settings.warmUpTasks; index++) await echoTask(client);

process.stderr.write(`latency: ${settings.latencyTasks} sequential echo tasks\n`);
const totalsMs: number[] = [];
const invokeToResultMs: number[] = [];
for (let index = 0; index < settings.latencyTasks; index++) {
  const sample = await echoTask(client);
  totalsMs.push(sample.totalMs);
  invokeToResultMs.push(sample.invokeToResultMs);
}

const throughput: EchoClientResults["throughput"] = [];
for (const clients of settings.concurrencyLevels) {
  process.stderr.write(`throughput: ${clients} clients for ${settings.throughputSeconds} s\n`);
  const sessions = await Promise.all(Array.from({ length: clients }, () => connect()));
  process.send?.({ level: clients, phase: "start" });
  const cpuBefore = process.cpuUsage();
  const deadline = performance.now() + settings.throughputSeconds * 1000;
  let completed = 0;
  const started = performance.now();
  await Promise.all(
    sessions.map(async (session) => {
      while (performance.now() < deadline) {
        await echoTask(session);
        completed++;
      }
    }),
  );
  const elapsedSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  process.send?.({ level: clients, phase: "end" });
  throughput.push({
    clients,
    tasks: completed,
    perSecond: completed / elapsedSeconds,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  });
}

const results: EchoClientResults = { totalsMs, invokeToResultMs, throughput };
process.stdout.write(JSON.stringify(results) + "\n");
process.disconnect?.();
