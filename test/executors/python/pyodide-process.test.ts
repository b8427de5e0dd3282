import assert from "node:assert/strict";
import { test } from "node:test";
import { launchPyodide } from "../../../src/executors/python/launch-pyodide.ts";
import type { SandboxReply } from "../../../src/executors/sandbox/sandbox-channel.ts";

test("pyodide process confines raw Python", async () => {
  const channel = await launchPyodide(4096);
  try {
    const reply = await new Promise<SandboxReply>((resolve) => {
      channel.onMessage(resolve);
      channel.send({ type: "self-check" });
    });
    assert.equal(reply.type, "done");
    const outcomes = (reply as { result: Record<string, string> }).result;
    assert.match(outcomes.compileJavaScript ?? "", /^blocked: .*Code generation from strings/);
    assert.equal(outcomes.hostGlobals, "reached: none");
    assert.equal(outcomes.moduleHostObjects, "reached: none");
    assert.match(outcomes.loadPackage ?? "", /^blocked: .*disabled/);
    assert.match(outcomes.mountHostFiles ?? "", /^blocked: .*disabled/);
    assert.match(outcomes.readHostFile ?? "", /^blocked: .*(FileNotFoundError|No such file)/);
    assert.match(outcomes.network ?? "", /^blocked: /);
    assert.equal(outcomes.preciseClock, "reached: coarse");
  } finally {
    channel.kill();
  }
});
