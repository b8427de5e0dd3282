import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEndpointAssignment, planDeployment } from "../../src/platform/deployment-plan.ts";
import { parseServiceList } from "../../src/platform/service-topology.ts";
import { createRejectionLog } from "../../src/transport/rejection-log.ts";
import { captureLogger } from "./deployment-helpers.ts";

test("plan without options links in-process", () => {
  const plan = planDeployment();
  assert.equal(plan.split, false);
  assert.equal(plan.local.size, 6);
  assert.deepEqual(plan.servedEndpoints, []);
  assert.deepEqual(plan.attestedServices, []);
  assert.equal(plan.linkMode("management"), "in-process");
  assert.deepEqual(plan.endpoints.scheduler, { host: "127.0.0.1", port: 17780 });
});

test("plan serves endpoints remote callers need", () => {
  const plan = planDeployment({ services: ["management", "scheduler", "execution"] });
  assert.equal(plan.split, true);
  // Scheduler's only caller, execution, runs here, so the scheduler is not served.
  assert.deepEqual(plan.servedEndpoints, ["management"]);
  assert.deepEqual(plan.attestedServices, ["management"]);
  assert.equal(plan.linkMode("scheduler"), "in-process");
  assert.equal(plan.linkMode("authentication"), "remote");

  const frontendOnly = planDeployment({ services: ["frontend"] });
  assert.deepEqual(frontendOnly.servedEndpoints, []);
  assert.deepEqual(frontendOnly.attestedServices, ["frontend"]);
});

test("endpoint assignments parse", () => {
  assert.deepEqual(parseEndpointAssignment("access-control=10.0.0.2:17779"), {
    endpoint: "access_control",
    address: { host: "10.0.0.2", port: 17779 },
  });
  assert.deepEqual(parseEndpointAssignment("scheduler=[::1]:1"), {
    endpoint: "scheduler",
    address: { host: "::1", port: 1 },
  });
  const invalid = [
    ["management", /expected service=host:port/],
    ["management=host", /expected service=host:port/],
    ["frontend=127.0.0.1:7777", /service frontend has no internal endpoint/],
    ["storage=127.0.0.1:17778", /invalid service "storage"/],
    ["management=127.0.0.1:70000", /port must be from 1 to 65535/],
  ] as const;
  for (const [text, message] of invalid) {
    assert.throws(() => parseEndpointAssignment(text), { code: "INVALID_ARGUMENT", message });
  }
});

test("service lists parse", () => {
  assert.equal(parseServiceList("all").length, 6);
  assert.deepEqual(parseServiceList("management, scheduler,management"), [
    "management",
    "scheduler",
  ]);
  assert.throws(() => parseServiceList(","), { code: "INVALID_ARGUMENT", message: /empty/ });
  assert.throws(() => parseServiceList("managment"), {
    code: "INVALID_ARGUMENT",
    message: /invalid service "managment": expected one of authentication, frontend/,
  });
});

test("rejection log limits repeats", () => {
  const log = captureLogger();
  let nowMs = 0;
  const logRejection = createRejectionLog(log.logger, "client rejected", () => nowMs);
  for (let index = 0; index < 25; index++) logRejection({ index });
  assert.equal(log.find("client rejected").length, 20);

  nowMs = 60_000;
  logRejection({ index: 25 });
  const summaries = log.find("client rejected: more rejections omitted");
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0]?.["omitted"], 5);
  assert.equal(log.find("client rejected").length, 21);
});
