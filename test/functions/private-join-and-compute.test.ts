import { test } from "node:test";
import assert from "node:assert/strict";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { parseAmounts } from "../../src/functions/builtin/private-join-and-compute.ts";
import { runBuiltin } from "./run-builtin.ts";

const banks = ["bank_a", "bank_b", "bank_c"].map((name) =>
  teaclaveFixture(`functions/private_join_and_compute/three_party_data/${name}.txt`),
);
const inputs = Object.fromEntries(banks.map((path, user) => [`input_data${user}`, path]));
const outputSlots = ["output_data0", "output_data1", "output_data2"];

test("private-join-and-compute three banks", async () => {
  const result = await runBuiltin(
    "builtin-private-join-and-compute",
    { num_user: 3 },
    inputs,
    outputSlots,
  );
  assert.equal(result.summary, "3 users join the task in total.");
  const lines = result.outputs.output_data0?.split("\n").filter((line) => line !== "");
  assert.deepEqual(lines?.sort(), ["c, 470000", "e, 5033000"]);
  assert.equal(result.outputs.output_data1, result.outputs.output_data0);
  assert.equal(result.outputs.output_data2, result.outputs.output_data0);
});

test("private-join-and-compute two of three", async () => {
  const result = await runBuiltin("builtin-private-join-and-compute", { num_user: "2" }, inputs, [
    "output_data0",
    "output_data1",
  ]);
  assert.equal(result.summary, "2 users join the task in total.");
  const lines = result.outputs.output_data0?.split("\n").filter((line) => line !== "");
  assert.deepEqual(lines?.sort(), ["a, 5000100", "c, 70000", "e, 5003000"]);
});

test("private-join-and-compute one user", async () => {
  await assert.rejects(
    runBuiltin("builtin-private-join-and-compute", { num_user: 1 }, inputs, outputSlots),
    { code: "INVALID_ARGUMENT", message: /"num_user" must be at least 2/ },
  );
});

test("private-join-and-compute missing slot", async () => {
  await assert.rejects(
    runBuiltin("builtin-private-join-and-compute", { num_user: 4 }, inputs, outputSlots),
    { code: "NOT_FOUND", message: /input_data3/ },
  );
});

test("parseAmounts skips malformed lines", () => {
  const amounts = parseAmounts("a : 1\nb\nc : x\nd : 1 : 2\ne:4294967296\n f :  7 \na : 3\n");
  assert.deepEqual(
    [...amounts],
    [
      ["a", 3],
      ["f", 7],
    ],
  );
});
