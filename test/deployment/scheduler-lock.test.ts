import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { acquireSchedulerLock } from "../../src/platform/scheduler-lock.ts";
import { startTestPlatform } from "../helpers/test-platform.ts";

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-lock-"));
});
after(() => rm(directory, { recursive: true, force: true }));

test("second scheduler on a data directory is refused", async () => {
  const first = await startTestPlatform({}, directory);
  try {
    await assert.rejects(startTestPlatform({}, directory), (error: unknown) => {
      assert.equal((error as { code?: string }).code, "FAILED_PRECONDITION");
      assert.match((error as Error).message, /already runs the scheduler on data directory/);
      return true;
    });
    // The refused start harmed nothing: the first platform still serves.
    const admin = await first.login("admin", "teaclave");
    assert.equal(
      (await admin.frontend.rpc.listFunctions({ userId: "admin" })).registeredFunctions.length,
      0,
    );
  } finally {
    await first.stop();
  }
  // Once the first has stopped, the lock is free again.
  const second = await startTestPlatform({}, directory);
  await second.stop();
});

test("lock of a killed process is free at once", () => {
  const path = join(directory, "killed.lock");
  // A child takes the lock and dies without releasing it.
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import { acquireSchedulerLock } from ${JSON.stringify(new URL("../../src/platform/scheduler-lock.ts", import.meta.url).href)};
       acquireSchedulerLock(${JSON.stringify(path)}, "d");
       process.kill(process.pid, "SIGKILL");`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(child.signal, "SIGKILL", child.stderr);
  const lock = acquireSchedulerLock(path, "d");
  assert.throws(() => acquireSchedulerLock(path, "d"), /already runs the scheduler/);
  lock.release();
  acquireSchedulerLock(path, "d").release();
});
