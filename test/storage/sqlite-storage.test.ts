import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqliteStorage } from "../../src/storage/sqlite-storage.ts";

describe("SQLite storage queues", () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "cloister-storage-"));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test("claim takes the oldest of the given queues", async () => {
    const storage = new SqliteStorage(":memory:");
    await storage.commit({
      enqueue: [
        { queue: "wamr", value: "first" },
        { queue: "other", value: "not asked for" },
        { queue: "builtin", value: "second" },
      ],
    });
    const first = await storage.claim(["builtin", "wamr"], "worker-1", 60_000);
    assert.deepEqual(
      { queue: first?.queue, value: first?.value },
      { queue: "wamr", value: "first" },
    );
    const second = await storage.claim(["builtin", "wamr"], "worker-2", 60_000);
    assert.deepEqual(
      { queue: second?.queue, value: second?.value },
      { queue: "builtin", value: "second" },
    );
    // Both are leased now, and "other" was not among the queues asked for.
    assert.equal(await storage.claim(["builtin", "wamr"], "worker-3", 60_000), undefined);
    assert.equal(await storage.claim([], "worker-3", 60_000), undefined);
    assert.equal((await storage.claim(["other"], "worker-3", 60_000))?.value, "not asked for");
    await storage.close();
  });

  test("expired lease makes a message visible again", async () => {
    const storage = new SqliteStorage(":memory:");
    await storage.commit({ enqueue: [{ queue: "builtin", value: "task" }] });
    const lapsed = await storage.claim(["builtin"], "dead-worker", -1);
    assert.equal(lapsed?.value, "task");
    const again = await storage.claim(["builtin"], "live-worker", 60_000);
    assert.equal(again?.messageId, lapsed?.messageId);
    assert.equal(await storage.queueLength("builtin"), 1);
    await storage.commit({ acknowledge: [{ queue: "builtin", messageId: again!.messageId }] });
    assert.equal(await storage.queueLength("builtin"), 0);
    assert.equal(await storage.claim(["builtin"], "live-worker", 60_000), undefined);
    await storage.close();
  });

  test("queued messages survive reopening", async () => {
    const path = join(directory, "queue.db");
    const writer = new SqliteStorage(path);
    await writer.commit({ enqueue: [{ queue: "builtin", value: "durable" }] });
    await writer.close();
    const reader = new SqliteStorage(path);
    assert.equal((await reader.claim(["builtin"], "worker", 60_000))?.value, "durable");
    await reader.close();
  });
});

describe("SQLite storage record watches", () => {
  test("commit wakes watchers of its keys only", async () => {
    const storage = new SqliteStorage(":memory:");
    let watchedWoke = false;
    let otherWoke = false;
    const watched = storage.watch("tasks/a", 60_000).then(() => (watchedWoke = true));
    const other = storage.watch("tasks/b", 60_000).then(() => (otherWoke = true));
    await storage.commit({ writes: [{ key: "tasks/a", value: "{}", expectedVersion: 0 }] });
    await watched;
    assert.equal(watchedWoke, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(otherWoke, false);
    await storage.commit({ writes: [{ key: "tasks/b", value: "{}" }] });
    await other;
    await storage.close();
  });

  test("failed commit wakes no watcher", async () => {
    const storage = new SqliteStorage(":memory:");
    let woke = false;
    const watched = storage.watch("tasks/a", 60_000).then(() => (woke = true));
    await assert.rejects(
      storage.commit({ writes: [{ key: "tasks/a", value: "{}", expectedVersion: 3 }] }),
      { code: "ABORTED" },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(woke, false);
    await storage.commit({ writes: [{ key: "tasks/a", value: "{}" }] });
    await watched;
    assert.equal(woke, true);
    await storage.close();
  });

  test("timeout and abort end a watch", async () => {
    const storage = new SqliteStorage(":memory:");
    const started = performance.now();
    await storage.watch("tasks/c", 20);
    assert.ok(performance.now() - started >= 15);

    const abort = new AbortController();
    const aborted = storage.watch("tasks/d", 60_000, abort.signal);
    abort.abort();
    await aborted;
    await storage.close();
  });
});
