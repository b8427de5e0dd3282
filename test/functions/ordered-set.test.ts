import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";

const psi0 = teaclaveFixture("functions/ordered_set_intersect/psi0.txt");
const psi1 = teaclaveFixture("functions/ordered_set_intersect/psi1.txt");
const intersectOutputs = ["output_result1", "output_result2"];

test("ordered-set-intersect matches fixture", async () => {
  const result = await runBuiltin(
    "builtin-ordered-set-intersect",
    { order: "ascending" },
    { input_data1: psi0, input_data2: psi1 },
    intersectOutputs,
  );
  assert.equal(result.summary, "3 common items");
  assert.equal(result.outputs.output_result1, "0101010");
  assert.equal(result.outputs.output_result2, "01101");
});

test("ordered-set-intersect descending order", async () => {
  const reverse = async (path: string, name: string) =>
    writeTempInput(name, (await readFile(path, "utf8")).trim().split("\n").reverse().join("\n"));
  const result = await runBuiltin(
    "builtin-ordered-set-intersect",
    { order: "desending" },
    { input_data1: await reverse(psi0, "psi0"), input_data2: await reverse(psi1, "psi1") },
    intersectOutputs,
  );
  assert.equal(result.summary, "3 common items");
  assert.equal(result.outputs.output_result1, "0101010");
  assert.equal(result.outputs.output_result2, "10110");
});

test("ordered-set-intersect unsorted input", async () => {
  const unsorted = await writeTempInput("unsorted", "ff\n00\n");
  await assert.rejects(
    runBuiltin(
      "builtin-ordered-set-intersect",
      { order: "ascending" },
      { input_data1: unsorted, input_data2: psi1 },
      intersectOutputs,
    ),
    (error: Error & { code?: string }) =>
      error.code === "INVALID_ARGUMENT" &&
      error.message.startsWith("Invalid ordering") &&
      error.message.includes('"input_data1" line 2'),
  );
});

test("ordered-set-intersect invalid order", async () => {
  await assert.rejects(
    runBuiltin(
      "builtin-ordered-set-intersect",
      { order: "descending" },
      { input_data1: psi0, input_data2: psi1 },
      intersectOutputs,
    ),
    { code: "INVALID_ARGUMENT", message: /argument "order"/ },
  );
});

test("ordered-set-intersect non-hex line", async () => {
  const bad = await writeTempInput("bad-hex", "00\nzz\n");
  await assert.rejects(
    runBuiltin(
      "builtin-ordered-set-intersect",
      { order: "ascending" },
      { input_data1: psi0, input_data2: bad },
      intersectOutputs,
    ),
    { code: "INVALID_ARGUMENT", message: /input "input_data2" line 2/ },
  );
});

const join0 = teaclaveFixture("functions/ordered_set_join/join0.csv");
const join1 = teaclaveFixture("functions/ordered_set_join/join1.csv");
const joinArgs = { left_column: 0, right_column: 0, ascending: true, drop: true };

test("ordered-set-join matches fixture", async () => {
  const result = await runBuiltin(
    "builtin-ordered-set-join",
    joinArgs,
    { input_data1: join0, input_data2: join1 },
    ["output_result"],
  );
  const expected = await readFile(teaclaveFixture("functions/gbdt_training/train.txt"), "utf8");
  assert.equal(result.summary, "120 records");
  assert.equal(result.outputs.output_result?.trim(), expected.trim());
});

test("ordered-set-join keeps left column", async () => {
  const left = await writeTempInput("left.csv", "a,1\nb,2\nd,4\n");
  const right = await writeTempInput("right.csv", 'b,x\nc,y\nd,"q,r"\n');
  const result = await runBuiltin(
    "builtin-ordered-set-join",
    { ...joinArgs, drop: "false" },
    { input_data1: left, input_data2: right },
    ["output_result"],
  );
  assert.equal(result.summary, "2 records");
  assert.equal(result.outputs.output_result, 'b,2,x\nd,4,"q,r"\n');
});

test("ordered-set-join missing column", async () => {
  await assert.rejects(
    runBuiltin(
      "builtin-ordered-set-join",
      { ...joinArgs, left_column: 7 },
      { input_data1: join0, input_data2: join1 },
      ["output_result"],
    ),
    { code: "INVALID_ARGUMENT", message: /input "input_data1" line 1: has no column 7/ },
  );
});

test("ordered-set-join empty input", async () => {
  const empty = await writeTempInput("empty.csv", "");
  await assert.rejects(
    runBuiltin("builtin-ordered-set-join", joinArgs, { input_data1: join0, input_data2: empty }, [
      "output_result",
    ]),
    { code: "INVALID_ARGUMENT", message: /input "input_data2" is empty/ },
  );
});

test("ordered-set-join ragged record", async () => {
  const ragged = await writeTempInput("ragged.csv", "a,1\n\nb,2,3\n");
  await assert.rejects(
    runBuiltin("builtin-ordered-set-join", joinArgs, { input_data1: ragged, input_data2: join1 }, [
      "output_result",
    ]),
    { code: "INVALID_ARGUMENT", message: /input "input_data1" line 3: expected 2 fields/ },
  );
});
