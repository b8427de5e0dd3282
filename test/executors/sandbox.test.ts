import assert from "node:assert/strict";
import { test } from "node:test";
import wabtFactory from "wabt";
import { CloisterError } from "../../src/common/errors.ts";
import type { ErrorCode } from "../../src/common/errors.ts";
import { resolveLimits } from "../../src/executors/sandbox/execution-limits.ts";
import { GuestFileError, GuestFiles } from "../../src/executors/sandbox/guest-files.ts";
import type { SandboxChannel, SandboxReply } from "../../src/executors/sandbox/sandbox-channel.ts";
import { SandboxPool } from "../../src/executors/sandbox/sandbox-pool.ts";
import { capModuleMemory } from "../../src/executors/sandbox/wasm-memory-cap.ts";
import { watToWasm } from "./helpers.ts";

function hasCode(code: ErrorCode, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(CloisterError.is(error), `expected a CloisterError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

const defaults = { cpuTimeMs: 1000, memoryBytes: 2000, outputBytes: 3000 };
const maximums = { cpuTimeMs: 10000, memoryBytes: 20000, outputBytes: 30000 };

test("limits fill zero with defaults", () => {
  const zero = { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0 };
  assert.deepEqual(resolveLimits(zero, defaults, maximums), defaults);
  const set = { cpuTimeMs: 5, memoryBytes: 6, outputBytes: 7 };
  assert.deepEqual(resolveLimits(set, defaults, maximums), set);
});

test("limits reject bad values", () => {
  const base = { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0 };
  for (const [name, value] of [
    ["cpuTimeMs", -1],
    ["memoryBytes", 1.5],
    ["outputBytes", Number.NaN],
  ] as const) {
    assert.throws(
      () => resolveLimits({ ...base, [name]: value }, defaults, maximums),
      hasCode("INVALID_ARGUMENT", new RegExp(name)),
    );
  }
  assert.throws(
    () => resolveLimits({ ...base, memoryBytes: 20001 }, defaults, maximums),
    hasCode("INVALID_ARGUMENT", /maximum of 20000/),
  );
});

function memoryOf(binary: Uint8Array): { initial: number; maximum: number | undefined } {
  // Reads the limits back through a memory the module exports.
  const module = new WebAssembly.Module(binary);
  const instance = new WebAssembly.Instance(module, {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  const initial = memory.buffer.byteLength / 65536;
  let maximum = initial;
  try {
    for (;;) {
      memory.grow(1);
      maximum += 1;
      if (maximum > 4096) return { initial, maximum: undefined };
    }
  } catch {
    return { initial, maximum };
  }
}

test("memory cap lowers the maximum", async () => {
  const cases: [string, number, number][] = [
    ['(memory (export "memory") 2)', 10, 10],
    ['(memory (export "memory") 2 100)', 10, 10],
    ['(memory (export "memory") 2 5)', 10, 5],
    ['(memory (export "memory") 1000)', 2000, 2000],
  ];
  for (const [declaration, cap, expected] of cases) {
    const binary = await watToWasm(`(module ${declaration})`);
    const { bytes, importedMemory } = capModuleMemory(binary, cap);
    assert.equal(importedMemory, undefined);
    assert.equal(memoryOf(bytes).maximum, expected, declaration);
  }
});

test("memory cap reports imported memory", async () => {
  const binary = await watToWasm(`(module (import "env" "memory" (memory 3 50)))`);
  const { importedMemory } = capModuleMemory(binary, 20);
  assert.deepEqual(importedMemory, {
    module: "env",
    name: "memory",
    initialPages: 3,
    maximumPages: 20,
  });
  const unbounded = await watToWasm(`(module (import "env" "memory" (memory 3)))`);
  assert.equal(capModuleMemory(unbounded, 20).importedMemory?.maximumPages, 20);
});

test("memory cap rejects unsupported memories", async () => {
  const wabt = await wabtFactory();
  const shared = wabt.parseWat("shared.wat", `(module (memory 1 2 shared))`, { threads: true });
  const sharedBinary = shared.toBinary({}).buffer;
  shared.destroy();
  assert.throws(() => capModuleMemory(sharedBinary, 10), hasCode("INVALID_ARGUMENT", /shared/));
  assert.throws(
    () => capModuleMemory(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 10),
    hasCode("INVALID_ARGUMENT", /not a WebAssembly binary/),
  );
  const truncated = (await watToWasm(`(module (memory 1) (func))`)).subarray(0, 12);
  assert.throws(() => capModuleMemory(truncated, 10), hasCode("INVALID_ARGUMENT"));
  const large = await watToWasm(`(module (memory 64))`);
  assert.throws(() => capModuleMemory(large, 10), hasCode("RESOURCE_EXHAUSTED", /memoryBytes/));
});

test("guest files apply handle rules", () => {
  const files = new GuestFiles({ in: Buffer.from("a\nb") }, ["out"], 4);
  const input = files.openInput("in");
  const output = files.createOutput("out");
  assert.equal(input, 1);
  assert.equal(output, 0x40000000);
  assert.equal(Buffer.from(files.readLine(input)).toString(), "a\n");
  assert.equal(Buffer.from(files.read(input, 10)).toString(), "b");
  assert.equal(files.read(input, 10).length, 0);
  const failures: string[] = [];
  for (const attempt of [
    () => files.openInput("secret"),
    () => files.createOutput("out"),
    () => files.write(input, Buffer.from("x")),
    () => files.read(output, 1),
    () => files.write(12345, Buffer.from("x")),
  ]) {
    try {
      attempt();
      failures.push("allowed");
    } catch (error) {
      failures.push(error instanceof GuestFileError ? error.failure : "other");
    }
  }
  assert.deepEqual(failures, [
    "slot-not-granted",
    "output-already-created",
    "not-writable",
    "not-readable",
    "bad-handle",
  ]);
  files.write(output, Buffer.from("abc"));
  assert.throws(() => files.write(output, Buffer.from("de")), GuestFileError);
  assert.equal(files.limitExceeded, "out");
  files.close(output);
  assert.throws(() => files.close(output), GuestFileError);
  assert.deepEqual(
    files.outputs().map(({ slot, data }) => [slot, Buffer.from(data).toString()]),
    [["out", "abc"]],
  );
});

/**
 * A sandbox without a thread or process. It replies to each job with its own id, at once
 * unless `held` is set, in which case `release()` sends the reply.
 */
class FakeSandbox {
  readonly jobs: unknown[] = [];
  killed = false;
  held = false;
  #onMessage: ((reply: SandboxReply) => void) | undefined;
  #pendingReply: (() => void) | undefined;
  readonly #exitListeners: ((reason: string) => void)[] = [];

  constructor(readonly id: number) {}

  channel(): SandboxChannel {
    return {
      send: (message) => {
        this.jobs.push(message);
        const reply = (): void => this.#onMessage?.({ type: "done", result: this.id });
        if (this.held) this.#pendingReply = reply;
        else setImmediate(reply);
      },
      onMessage: (listener) => (this.#onMessage = listener),
      onExit: (listener) => this.#exitListeners.push(listener),
      kill: () => {
        this.killed = true;
        for (const listener of this.#exitListeners.splice(0)) listener("killed");
      },
      keepAlive: () => {},
    };
  }

  release(): void {
    this.#pendingReply?.();
  }
}

function fakePool(maxSandboxes: number, singleUse: boolean) {
  const sandboxes: FakeSandbox[] = [];
  const pool = new SandboxPool<string>({
    label: "Test",
    launch: async () => {
      const sandbox = new FakeSandbox(sandboxes.length);
      sandboxes.push(sandbox);
      return sandbox.channel();
    },
    maxSandboxes,
    singleUse,
  });
  return { pool, sandboxes };
}

const jobOptions = { timeoutMs: 5_000, signal: new AbortController().signal };

test("pool single use runs one job each", async () => {
  const { pool, sandboxes } = fakePool(1, true);
  assert.equal(await pool.run("key", "first", jobOptions), 0);
  assert.equal(sandboxes[0]!.killed, true);
  // The spare for the next job starts as soon as the first sandbox is gone.
  assert.equal(sandboxes.length, 2);
  assert.equal(await pool.run("key", "second", jobOptions), 1);
  assert.equal(sandboxes[1]!.killed, true);
  assert.deepEqual(
    sandboxes.map((sandbox) => sandbox.jobs.length),
    [1, 1, 0],
  );
  await pool.close();
  for (const sandbox of sandboxes) assert.equal(sandbox.killed, true);
});

test("pool reuses sandboxes by default", async () => {
  const { pool, sandboxes } = fakePool(1, false);
  assert.equal(await pool.run("key", "first", jobOptions), 0);
  assert.equal(await pool.run("key", "second", jobOptions), 0);
  assert.equal(sandboxes.length, 1);
  assert.equal(sandboxes[0]!.jobs.length, 2);
  await pool.close();
});

test("pool cancelled wait leaves queue", async () => {
  const { pool, sandboxes } = fakePool(1, false);
  await pool.run("key", "warm-up", jobOptions);
  sandboxes[0]!.held = true;
  const busy = pool.run("key", "busy", jobOptions);
  const controller = new AbortController();
  const cancelledRun = pool.run("key", "cancelled", { ...jobOptions, signal: controller.signal });
  const waiting = pool.run("key", "waiting", jobOptions);
  controller.abort();
  await assert.rejects(cancelledRun, hasCode("ABORTED"));
  sandboxes[0]!.held = false;
  sandboxes[0]!.release();
  assert.equal(await busy, 0);
  // The freed sandbox must go to the job that still waits, not to the cancelled one.
  assert.equal(await waiting, 0);
  await pool.close();
});
