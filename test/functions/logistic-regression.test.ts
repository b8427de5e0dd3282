import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";

const trainData = teaclaveFixture("functions/logistic_regression_training/train.txt");
const model = teaclaveFixture("functions/logistic_regression_prediction/model.txt");
const predictInput = teaclaveFixture("functions/logistic_regression_prediction/predict_input.txt");
const trainArgs = { alg_alpha: 0.3, alg_iters: 100, feature_size: 30 };

test("logistic-regression-train matches fixture model", async () => {
  const result = await runBuiltin(
    "builtin-logistic-regression-train",
    trainArgs,
    { training_data: trainData },
    ["model_file"],
  );
  const expected = JSON.parse(
    await readFile(
      teaclaveFixture("functions/logistic_regression_training/expected_model.txt"),
      "utf8",
    ),
  );
  const actual = JSON.parse(result.outputs.model_file!);
  assert.equal(result.summary, "Trained 100 lines of data.");
  assert.equal(actual.alpha, 0.3);
  assert.equal(actual.iters, 100);
  assert.equal(actual.parameters.length, 31);
  for (const [index, value] of expected.parameters.entries()) {
    assert.ok(
      Math.abs(actual.parameters[index] - value) <= 1e-12,
      `parameter ${index}: ${actual.parameters[index]} vs ${value}`,
    );
  }
});

test("logistic-regression-predict matches fixture", async () => {
  const result = await runBuiltin(
    "builtin-logistic-regression-predict",
    {},
    { model_file: model, data_file: predictInput },
    ["result_file"],
  );
  const expected = await readFile(
    teaclaveFixture("functions/logistic_regression_prediction/expected_result.txt"),
    "utf8",
  );
  assert.equal(result.summary, "Predicted 5 lines of data.");
  assert.equal(result.outputs.result_file, expected);
});

test("logistic-regression-predict wrong feature count", async () => {
  const data = await writeTempInput("predict.csv", "1,2,3\n");
  await assert.rejects(
    runBuiltin("builtin-logistic-regression-predict", {}, { model_file: model, data_file: data }, [
      "result_file",
    ]),
    { code: "INVALID_ARGUMENT", message: /input "data_file" line 1: expected 30 comma-separated/ },
  );
});

test("logistic-regression-predict untrained model", async () => {
  const untrained = await writeTempInput(
    "model.json",
    '{"alpha":0.3,"iters":100,"parameters":null}',
  );
  await assert.rejects(
    runBuiltin(
      "builtin-logistic-regression-predict",
      {},
      { model_file: untrained, data_file: predictInput },
      ["result_file"],
    ),
    { code: "INVALID_ARGUMENT", message: /"parameters" is missing/ },
  );
});

test("logistic-regression-train malformed data", async () => {
  const cases: [string, RegExp][] = [
    ["", /input "training_data" is empty/],
    ["1,2,0\n", /input "training_data" line 1: expected 31 comma-separated values/],
  ];
  for (const [text, message] of cases) {
    const input = await writeTempInput("train.csv", text);
    await assert.rejects(
      runBuiltin("builtin-logistic-regression-train", trainArgs, { training_data: input }, [
        "model_file",
      ]),
      { code: "INVALID_ARGUMENT", message },
    );
  }
});
