import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AuthenticationClient } from "../../src/sdk/authentication-client.ts";
import { FrontendClient } from "../../src/sdk/frontend-client.ts";
import { simulationVerifierFromDataDirectory } from "../../src/sdk/platform-verifier.ts";
import { repositoryRoot } from "../helpers/fixtures.ts";
import { freePort } from "../helpers/serve-process.ts";
import { freeEndpoints } from "./deployment-helpers.ts";

test("three serve processes run an echo task", async () => {
  const dataDirectory = await mkdtemp(join(tmpdir(), "cloister-processes-"));
  const endpoints = await freeEndpoints();
  const authenticationPort = await freePort();
  const frontendPort = await freePort();
  const common = [
    ...["--dev", "--data-dir", dataDirectory, "--log-level", "warn"],
    ...["--auth-port", String(authenticationPort), "--frontend-port", String(frontendPort)],
    ...Object.entries(endpoints).flatMap(([name, address]) => [
      "--endpoint",
      `${name}=${address.host}:${address.port}`,
    ]),
  ];
  const children: ChildProcess[] = [];
  const output: string[] = [];
  for (const services of ["management,scheduler,access_control", "authentication,frontend"]) {
    children.push(spawnServe([...common, "--services", services], output));
  }
  children.push(spawnServe([...common, "--services", "execution", "--executors", "1"], output));

  try {
    const { frontend, functionId } = await registerWhenReady(
      dataDirectory,
      authenticationPort,
      frontendPort,
      children,
      output,
    );
    const taskId = await frontend.createTask({ functionId, arguments: { message: "processes" } });
    await frontend.invokeTask(taskId);
    const outcome = await frontend.waitForTask(taskId, { timeoutMs: 30_000 });
    assert.equal(outcome.returnValue, "processes");
  } finally {
    await Promise.all(children.map(stop));
    await rm(dataDirectory, { recursive: true, force: true });
  }
  assert.doesNotMatch(output.join(""), /client rejected|server rejected/);
});

function spawnServe(options: string[], output: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(repositoryRoot, "bin/cloister.mjs"), "serve", ...options],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // The services log JSON lines to stdout, and the CLI writes its own messages to stderr.
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return child;
}

/** Logs in as admin and registers the echo function once all three processes respond. */
async function registerWhenReady(
  dataDirectory: string,
  authenticationPort: number,
  frontendPort: number,
  children: ChildProcess[],
  output: string[],
): Promise<{ frontend: FrontendClient; functionId: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (children.some((child) => child.exitCode !== null)) {
      assert.fail(`a serve process exited early: ${output.join("")}`);
    }
    try {
      const verifyServer = await simulationVerifierFromDataDirectory(dataDirectory);
      const authentication = new AuthenticationClient({
        address: `127.0.0.1:${authenticationPort}`,
        verifyServer,
      });
      const frontend = new FrontendClient({ address: `127.0.0.1:${frontendPort}`, verifyServer });
      frontend.setCredentials(await authentication.login("admin", "teaclave"));
      const functionId = await frontend.registerFunction({
        name: "builtin-echo",
        description: "",
        executorType: "builtin",
        public: true,
        arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
      });
      return { frontend, functionId };
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`the split deployment did not start: ${output.join("")}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
