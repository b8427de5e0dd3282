import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";

const input = teaclaveFixture("functions/princopal_components_analysis/input.txt");
const args = { n: 2, feature_size: 4, center: true };
const rustDebugFloat = /^-?(?:\d+\.\d+|\d(?:\.\d+)?e-?\d+)$/;

test("pca matches fixture projection", async () => {
  const result = await runBuiltin(
    "builtin_principal_components_analysis",
    args,
    { input_data: input },
    ["output_data"],
  );
  const expected = (
    await readFile(
      teaclaveFixture("functions/princopal_components_analysis/expected_result.txt"),
      "utf8",
    )
  )
    .trim()
    .split("\n");
  const actual = result.outputs.output_data!.split("\n");
  assert.equal(result.summary, "transform 90 rows * 2 cols lines of data.");
  assert.equal(actual.pop(), "");
  assert.equal(actual.length, 90);
  for (const [row, line] of actual.entries()) {
    const values = line.split(",");
    const expectedValues = expected[row]!.split(",").map(Number);
    assert.equal(values.length, 2);
    for (const [column, text] of values.entries()) {
      assert.match(text, rustDebugFloat);
      const difference = Math.abs(Number(text) - expectedValues[column]!);
      assert.ok(difference <= 1e-9, `row ${row + 1} column ${column + 1} differs by ${difference}`);
    }
  }
});

test("pca invalid component count", async () => {
  await assert.rejects(
    runBuiltin("builtin_principal_components_analysis", { ...args, n: 5 }, { input_data: input }, [
      "output_data",
    ]),
    { code: "INVALID_ARGUMENT", message: /argument "n" must be between 1 and feature_size/ },
  );
});

test("pca missing label column", async () => {
  const data = await writeTempInput("pca.csv", "1,2,3,4,0\n1,2,3,4\n");
  await assert.rejects(
    runBuiltin("builtin_principal_components_analysis", args, { input_data: data }, [
      "output_data",
    ]),
    { code: "INVALID_ARGUMENT", message: /input "input_data" line 2: expected 5 comma-separated/ },
  );
});
