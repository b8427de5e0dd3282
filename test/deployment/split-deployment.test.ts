import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { resolvePlatformConfig } from "../../src/platform/platform-config.ts";
import { startPlatform } from "../../src/platform/platform.ts";
import type { RunningPlatform } from "../../src/platform/platform.ts";
import type { ServiceName } from "../../src/platform/service-topology.ts";
import { AuthenticationClient } from "../../src/sdk/authentication-client.ts";
import { FrontendClient } from "../../src/sdk/frontend-client.ts";
import { simulationVerifier } from "../../src/sdk/platform-verifier.ts";
import { freePort } from "../helpers/serve-process.ts";
import { captureLogger, freeEndpoints } from "./deployment-helpers.ts";

// Four platform instances in one data directory, each with its own SQLite connection and
// attested identities, so that every internal link crosses TLS on loopback.
const groups: ServiceName[][] = [
  ["frontend"],
  ["authentication", "access_control"],
  ["management", "scheduler"],
  ["execution"],
];

let dataDirectory: string;
const platforms: RunningPlatform[] = [];
const log = captureLogger();

before(async () => {
  dataDirectory = await mkdtemp(join(tmpdir(), "cloister-split-"));
  const endpoints = await freeEndpoints();
  const authenticationPort = await freePort();
  const frontendPort = await freePort();
  for (const services of groups) {
    const config = resolvePlatformConfig({
      dataDirectory,
      authenticationPort,
      frontendPort,
      dev: true,
      executorWorkers: 1,
      deployment: { services, endpoints },
    });
    platforms.push(await startPlatform(config, log.logger.child({ group: services.join(",") })));
  }
});

after(async () => {
  for (const platform of platforms.reverse()) await platform.stop();
  await rm(dataDirectory, { recursive: true, force: true });
});

test("split deployment runs an echo task", async () => {
  const frontendProcess = platforms[0]!;
  const authenticationProcess = platforms[1]!;
  assert.deepEqual(frontendProcess.services, ["frontend"]);
  assert.equal(frontendProcess.authenticationPort, 0);
  assert.deepEqual(Object.keys(platforms[2]!.internalPorts).sort(), ["management", "scheduler"]);

  const verifyServer = simulationVerifier(
    frontendProcess.attestation.simulationKeyPem ?? "",
    frontendProcess.attestation.measurement ?? "",
  );
  const authentication = new AuthenticationClient({
    address: `127.0.0.1:${authenticationProcess.authenticationPort}`,
    verifyServer,
  });
  const frontend = new FrontendClient({
    address: `127.0.0.1:${frontendProcess.frontendPort}`,
    verifyServer,
  });
  frontend.setCredentials(await authentication.login("admin", "teaclave"));
  const functionId = await frontend.registerFunction({
    name: "builtin-echo",
    description: "",
    executorType: "builtin",
    public: true,
    arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
  });
  const taskId = await frontend.createTask({ functionId, arguments: { message: "apart" } });
  await frontend.invokeTask(taskId);
  const outcome = await frontend.waitForTask(taskId, { timeoutMs: 20_000 });
  assert.equal(outcome.returnValue, "apart");
  assert.equal(log.find("client rejected").length, 0);
  assert.equal(log.find("server rejected").length, 0);
});
