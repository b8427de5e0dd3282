import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CloisterError } from "../../../src/common/errors.ts";
import { WasmExecutor } from "../../../src/executors/wasm/wasm-executor.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, compileWatFile, makeRequest, watToWasm } from "../helpers.ts";

const executor = new WasmExecutor();
after(() => executor.close());

test("wasm simple add returns sum", async () => {
  const payload = await compileWatFile("simple-add.wat");
  const files = await TestFiles.create({});
  const outcome = await executor.execute(
    makeRequest({ executorType: "wamr", payload, arguments: { adder2: "4", adder1: "3" } }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(outcome.summary, "7");
  await files.remove();
});

test("wasm millionaire writes richer slot", async () => {
  const payload = await compileWatFile("millionaire.wat");
  const files = await TestFiles.create(
    {
      pf_in_a: teaclaveFixture("functions/wamr_c_millionaire_problem/input_a.txt"),
      pf_in_b: teaclaveFixture("functions/wamr_c_millionaire_problem/input_b.txt"),
    },
    ["pf_out"],
  );
  const outcome = await executor.execute(
    makeRequest({
      executorType: "wamr",
      payload,
      arguments: { input_file_id1: "pf_in_a", input_file_id2: "pf_in_b", output_file_id: "pf_out" },
    }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(outcome.summary, "7");
  assert.equal(await files.output("pf_out"), "pf_in_a");
  await files.remove();
});

test("wasm set intersection writes both outputs", async () => {
  const payload = await compileWatFile("psi.wat");
  const files = await TestFiles.create(
    {
      in0: teaclaveFixture("functions/wamr_rust_psi/psi0.txt"),
      in1: teaclaveFixture("functions/wamr_rust_psi/psi1.txt"),
    },
    ["out0", "out1"],
  );
  const outcome = await executor.execute(
    makeRequest({
      executorType: "wamr",
      payload,
      arguments: { input1_fid: "in0", input2_fid: "in1", output1_fid: "out0", output2_fid: "out1" },
    }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(outcome.summary, "6");
  const expected = [
    "1SZAD1OQPELAG5UU",
    "DZSG168P1F6RI79G",
    "I19L8FHJN3DHVMV5",
    "M3AUONYLXUZWS9V2",
    "P950PQRHNSB0RD13",
    "UYYAL5KKMUCKHSUR",
  ];
  for (const slot of ["out0", "out1"]) {
    const lines = (await files.output(slot)).split("\n");
    assert.equal(lines.length, 8, `${slot} has 6 lines, "done" and a final newline`);
    assert.deepEqual(lines.slice(0, 6).sort(), expected);
    assert.equal(lines[6], "done");
    assert.equal(lines[7], "");
  }
  await files.remove();
});

test("wasm trap is an exception summary", async () => {
  const payload = await watToWasm(`(module (memory (export "memory") 1)
    (func (export "entrypoint") (param i32 i32) (result i32) unreachable))`);
  const files = await TestFiles.create({});
  const outcome = await executor.execute(
    makeRequest({ executorType: "wamr", payload }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(outcome.summary, "Exception: unreachable");
  await files.remove();
});

test("wasm empty payload is rejected", async () => {
  const files = await TestFiles.create({});
  await assert.rejects(
    executor.execute(
      makeRequest({ executorType: "wamr", payload: new Uint8Array() }),
      files.runtime,
      new AbortController().signal,
    ),
    (error: unknown) => CloisterError.is(error) && error.code === "INVALID_ARGUMENT",
  );
  await files.remove();
});

test("wasm start function may call imports", async () => {
  const payload = await watToWasm(`(module
    (import "env" "teaclave_open_input" (func $open_input (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $opened (mut i32) (i32.const 7))
    (func $start (global.set $opened (call $open_input (i32.const 0))))
    (start $start)
    (func (export "entrypoint") (param i32 i32) (result i32) (global.get $opened)))`);
  const files = await TestFiles.create({});
  const outcome = await executor.execute(
    makeRequest({ executorType: "wamr", payload }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(outcome.summary, "-1");
  await files.remove();
});
