import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
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

/** Returns the ids of the Pyodide interpreter processes whose parent is `parentPid`. */
function interpreterChildren(parentPid: number): number[] {
  const listing = `/proc/${parentPid}/task/${parentPid}/children`;
  if (!existsSync(listing)) return [];
  const pids = readFileSync(listing, "utf8").split(" ").filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("pyodide-process.mjs");
    } catch {
      return false;
    }
  });
}

/** Tells whether `pid` is a process that has not exited; a zombie counts as exited. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await delay(100);
  }
  return condition();
}

test("pyodide process dies with its parent", { skip: process.platform !== "linux" }, async () => {
  const script = fileURLToPath(new URL("./run-endless-task.ts", import.meta.url));
  const parent = spawn(process.execPath, ["--import", "tsx", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let interpreters: number[] = [];
  try {
    await once(parent.stdout, "data");
    // Lets the interpreter start from the snapshot (about 0.7 s) and enter the endless loop.
    await delay(2_500);
    interpreters = interpreterChildren(parent.pid!);
    assert.ok(interpreters.length > 0, "the parent has no interpreter process");
    parent.kill("SIGKILL");
    const gone = await waitFor(() => !interpreters.some(isRunning), 5_000);
    assert.ok(gone, `interpreter processes ${interpreters.join(", ")} outlived their parent`);
  } finally {
    parent.kill("SIGKILL");
    for (const pid of interpreters.filter(isRunning)) process.kill(pid, "SIGKILL");
  }
});
