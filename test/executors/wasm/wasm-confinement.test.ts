import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CloisterError } from "../../../src/common/errors.ts";
import type { ErrorCode } from "../../../src/common/errors.ts";
import type { ExecutionLimits } from "../../../src/executors/executor.ts";
import { WasmExecutor } from "../../../src/executors/wasm/wasm-executor.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, compileWatFile, makeRequest, watToWasm } from "../helpers.ts";

const executor = new WasmExecutor({ maxWorkers: 1 });
after(() => executor.close());

const fileImports = `
  (import "env" "teaclave_open_input" (func $open_input (param i32) (result i32)))
  (import "env" "teaclave_create_output" (func $create_output (param i32) (result i32)))
  (import "env" "teaclave_read_file" (func $read_file (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_write_file" (func $write_file (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_close_file" (func $close_file (param i32) (result i32)))`;

async function run(
  wat: string,
  options: { files?: TestFiles; limits?: Partial<ExecutionLimits>; signal?: AbortSignal } = {},
): Promise<string> {
  const files = options.files ?? (await TestFiles.create({}));
  const request = makeRequest({
    executorType: "wamr",
    payload: await watToWasm(wat),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  try {
    const outcome = await executor.execute(
      request,
      files.runtime,
      options.signal ?? new AbortController().signal,
    );
    return outcome.summary;
  } finally {
    if (options.files === undefined) await files.remove();
  }
}

function hasCode(code: ErrorCode, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(CloisterError.is(error), `expected a CloisterError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

/** Runs simple add, to show the executor still works after a stopped run. */
async function assertHealthy(): Promise<void> {
  const files = await TestFiles.create({});
  const request = makeRequest({
    executorType: "wamr",
    payload: await compileWatFile("simple-add.wat"),
    arguments: { adder1: "3", adder2: "4" },
  });
  const outcome = await executor.execute(request, files.runtime, new AbortController().signal);
  assert.equal(outcome.summary, "7");
  await files.remove();
}

test("wasm undeclared import is rejected", async () => {
  const wat = `(module (import "env" "system" (func (param i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))`;
  await assert.rejects(run(wat), hasCode("PERMISSION_DENIED", /"env\.system"/));
});

test("wasm WASI import is rejected", async () => {
  const wat = `(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))`;
  await assert.rejects(run(wat), hasCode("PERMISSION_DENIED", /wasi_snapshot_preview1\.fd_write/));
});

test("wasm missing entrypoint is rejected", async () => {
  const wat = `(module (memory (export "memory") 1)
    (func (export "main") (param i32 i32) (result i32) (i32.const 0)))`;
  await assert.rejects(run(wat), hasCode("INVALID_ARGUMENT", /entrypoint/));
});

test("wasm ungranted slot gives -1", async () => {
  const files = await TestFiles.create(
    { granted: teaclaveFixture("functions/wamr_c_millionaire_problem/input_a.txt") },
    ["out"],
  );
  const wat = `(module ${fileImports}
    (memory (export "memory") 1)
    (data (i32.const 16) "secret\\00")
    (func (export "entrypoint") (param i32 i32) (result i32)
      (i32.add
        (call $open_input (i32.const 16))
        (i32.mul (call $create_output (i32.const 16)) (i32.const 10)))))`;
  assert.equal(await run(wat, { files }), "-11");
  await files.remove();
});

test("wasm writing to an input fails", async () => {
  const files = await TestFiles.create(
    { granted: teaclaveFixture("functions/wamr_c_millionaire_problem/input_a.txt") },
    ["out"],
  );
  const wat = `(module ${fileImports}
    (memory (export "memory") 1)
    (data (i32.const 16) "granted\\00")
    (data (i32.const 32) "out\\00")
    (func (export "entrypoint") (param i32 i32) (result i32)
      (local $input i32)
      (local $output i32)
      (local.set $input (call $open_input (i32.const 16)))
      (local.set $output (call $create_output (i32.const 32)))
      ;; Each failed call adds its -1; the handles themselves must be valid.
      (i32.add
        (i32.add
          (call $write_file (local.get $input) (i32.const 16) (i32.const 4))
          (call $read_file (local.get $output) (i32.const 64) (i32.const 4)))
        (i32.add
          (call $create_output (i32.const 32))
          (i32.mul
            (i32.or (i32.lt_s (local.get $input) (i32.const 1)) (i32.ne (local.get $output) (i32.const 0x40000000)))
            (i32.const 100))))))`;
  assert.equal(await run(wat, { files }), "-3");
  await files.remove();
});

test("wasm pointer outside memory fails", async () => {
  const files = await TestFiles.create({
    granted: teaclaveFixture("functions/wamr_c_millionaire_problem/input_a.txt"),
  });
  const wat = `(module ${fileImports}
    (memory (export "memory") 1)
    (data (i32.const 16) "granted\\00")
    (func (export "entrypoint") (param i32 i32) (result i32)
      (call $read_file (call $open_input (i32.const 16)) (i32.const 0x7ffffff0) (i32.const 64))))`;
  assert.equal(await run(wat, { files }), "-1");
  await files.remove();
});

const memoryBomb = (memory: string) => `(module ${memory}
  (func (export "entrypoint") (param i32 i32) (result i32)
    (block $full
      (loop $grow
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $grow)))
    (memory.size)))`;

test("wasm memory bomb stops at cap", async () => {
  const limits = { memoryBytes: 4 * 2 ** 20 };
  assert.equal(await run(memoryBomb(`(memory (export "memory") 1)`), { limits }), "64");
  assert.equal(await run(memoryBomb(`(memory (export "memory") 1 100000)`), { limits }), "64");
  assert.equal(await run(memoryBomb(`(memory (export "memory") 1 10)`), { limits }), "10");
  await assertHealthy();
});

test("wasm imported memory is capped", async () => {
  const limits = { memoryBytes: 4 * 2 ** 20 };
  assert.equal(await run(memoryBomb(`(import "env" "memory" (memory 1))`), { limits }), "64");
  await assertHealthy();
});

test("wasm initial memory above cap", async () => {
  const wat = `(module (memory (export "memory") 100)
    (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))`;
  await assert.rejects(
    run(wat, { limits: { memoryBytes: 4 * 2 ** 20 } }),
    hasCode("RESOURCE_EXHAUSTED", /memoryBytes/),
  );
});

test("wasm endless loop times out", async () => {
  const wat = `(module (memory (export "memory") 1)
    (func (export "entrypoint") (param i32 i32) (result i32) (loop $spin (br $spin)) (i32.const 0)))`;
  await assert.rejects(run(wat, { limits: { cpuTimeMs: 300 } }), hasCode("DEADLINE_EXCEEDED"));
  await assertHealthy();
});

test("wasm deep recursion traps", async () => {
  const wat = `(module (memory (export "memory") 1)
    (func $dive (param i32) (result i32) (call $dive (i32.add (local.get 0) (i32.const 1))))
    (func (export "entrypoint") (param i32 i32) (result i32) (call $dive (i32.const 0))))`;
  assert.equal(await run(wat), "Exception: stack overflow");
  await assertHealthy();
});

test("wasm cancelled run is stopped", async () => {
  const wat = `(module (memory (export "memory") 1)
    (func (export "entrypoint") (param i32 i32) (result i32) (loop $spin (br $spin)) (i32.const 0)))`;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(run(wat, { signal: controller.signal }), hasCode("ABORTED"));
  await assertHealthy();
});

test("wasm output past limit fails run", async () => {
  const files = await TestFiles.create({}, ["out"]);
  const wat = `(module ${fileImports}
    (memory (export "memory") 1)
    (data (i32.const 16) "out\\00")
    (func (export "entrypoint") (param i32 i32) (result i32)
      (local $output i32)
      (local.set $output (call $create_output (i32.const 16)))
      (drop (call $write_file (local.get $output) (i32.const 1024) (i32.const 600)))
      (call $write_file (local.get $output) (i32.const 1024) (i32.const 600))))`;
  await assert.rejects(
    run(wat, { files, limits: { outputBytes: 1000 } }),
    hasCode("RESOURCE_EXHAUSTED", /"out"/),
  );
  assert.equal(await files.outputExists("out"), false);
  await files.remove();
});

test("wasm run cancelled before start", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    run(
      `(module (memory (export "memory") 1)
      (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))`,
      {
        signal: controller.signal,
      },
    ),
    hasCode("ABORTED"),
  );
});
