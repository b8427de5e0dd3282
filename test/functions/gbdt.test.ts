import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { gbdtTrainingFixtureArguments, teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";

const model = teaclaveFixture("functions/gbdt_prediction/model.txt");
const testData = teaclaveFixture("functions/gbdt_prediction/test_data.txt");
const trainData = teaclaveFixture("functions/gbdt_training/train.txt");
const trainArgs = gbdtTrainingFixtureArguments;

test("gbdt-predict matches fixture bytes", async () => {
  const result = await runBuiltin(
    "builtin-gbdt-predict",
    {},
    { model_file: model, data_file: testData },
    ["result_file"],
  );
  const expected = await readFile(
    teaclaveFixture("functions/gbdt_prediction/expected_result.txt"),
    "utf8",
  );
  assert.equal(result.summary, "Predict result has 30 lines of data.");
  assert.equal(result.outputs.result_file, expected);
});

test("gbdt-train matches fixture bytes", async () => {
  const result = await runBuiltin("builtin-gbdt-train", trainArgs, { training_data: trainData }, [
    "trained_model",
  ]);
  const expected = await readFile(
    teaclaveFixture("functions/gbdt_training/expected_model.txt"),
    "utf8",
  );
  assert.equal(result.summary, "Trained 120 lines of data.");
  assert.equal(result.outputs.trained_model, expected);
});

test("gbdt-train accepts string arguments", async () => {
  const textArgs = Object.fromEntries(Object.entries(trainArgs).map(([k, v]) => [k, String(v)]));
  const result = await runBuiltin("builtin-gbdt-train", textArgs, { training_data: trainData }, [
    "trained_model",
  ]);
  const expected = await readFile(
    teaclaveFixture("functions/gbdt_training/expected_model.txt"),
    "utf8",
  );
  assert.equal(result.outputs.trained_model, expected);
});

test("gbdt-train squared error round trip", async () => {
  const training = await runBuiltin(
    "builtin-gbdt-train",
    { ...trainArgs, loss: "SquaredError", iterations: 30, max_depth: 3 },
    { training_data: trainData },
    ["trained_model"],
  );
  const modelPath = await writeTempInput("model.json", training.outputs.trained_model!);
  const model = JSON.parse(training.outputs.trained_model!);
  assert.equal(model.conf.loss, "SquaredError");
  assert.equal(model.trees.length, 30);
  const prediction = await runBuiltin(
    "builtin-gbdt-predict",
    {},
    { model_file: modelPath, data_file: trainData },
    ["result_file"],
  ).catch((error: Error) => error);
  // The training file has a label column, so predicting on it is a wrong feature count.
  assert.ok(prediction instanceof Error);
  assert.match(prediction.message, /input "data_file" line 1: expected 4 comma-separated values/);

  const features = (await readFile(trainData, "utf8"))
    .trim()
    .split("\n")
    .map((line) => line.split(",").slice(0, 4).join(","))
    .join("\n");
  const labels = (await readFile(trainData, "utf8"))
    .trim()
    .split("\n")
    .map((line) => Number(line.split(",")[4]));
  const predicted = await runBuiltin(
    "builtin-gbdt-predict",
    {},
    { model_file: modelPath, data_file: await writeTempInput("features.csv", features) },
    ["result_file"],
  );
  const values = predicted.outputs.result_file!.trim().split("\n").map(Number);
  const meanAbsoluteError =
    values.reduce((sum, value, index) => sum + Math.abs(value - labels[index]!), 0) / values.length;
  assert.equal(values.length, 120);
  assert.ok(meanAbsoluteError < 0.1, `mean absolute error ${meanAbsoluteError}`);
});

test("gbdt-train malformed training data", async () => {
  const cases: [string, RegExp][] = [
    ["", /input "training_data" is empty/],
    ["1,2,3,4,1\n1,2,3,1\n", /input "training_data" line 2: expected 5 comma-separated values/],
    ["1,2,3,4,1\n1,2,x,4,1\n", /input "training_data" line 2: value 3 is not a finite number/],
    ["1,2,3,4,1\n\n1,2,3,4,1\n", /input "training_data" line 2: is empty/],
    ["1,2,3,4,1\n1,2,,4,1\n", /input "training_data" line 2: value 3 is not a finite number/],
  ];
  for (const [text, message] of cases) {
    const input = await writeTempInput("train.csv", text);
    await assert.rejects(
      runBuiltin("builtin-gbdt-train", trainArgs, { training_data: input }, ["trained_model"]),
      { code: "INVALID_ARGUMENT", message },
    );
  }
});

test("gbdt-train invalid arguments", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...trainArgs, loss: "Huber" }, /argument "loss" must be one of/],
    [{ ...trainArgs, data_sample_ratio: 0 }, /"data_sample_ratio" must be greater than 0/],
    [{ ...trainArgs, iterations: 0 }, /"iterations" must be at least 1/],
    [{ ...trainArgs, max_depth: -1 }, /"max_depth" must be a non-negative integer/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      runBuiltin("builtin-gbdt-train", args, { training_data: trainData }, ["trained_model"]),
      { code: "INVALID_ARGUMENT", message },
    );
  }
});

test("gbdt-predict malformed model", async () => {
  const broken = JSON.parse(await readFile(model, "utf8"));
  broken.trees[3].tree.tree[0].right = 999;
  const cases: [string, RegExp][] = [
    ["not json", /input "model_file" is not a gbdt-rs model: it is not valid JSON/],
    ['{"conf":{}}', /conf.loss must be one of/],
    [JSON.stringify(broken), /trees\[3\].tree.tree\[0\] points to a child outside the tree/],
  ];
  for (const [text, message] of cases) {
    const modelPath = await writeTempInput("model.json", text);
    await assert.rejects(
      runBuiltin("builtin-gbdt-predict", {}, { model_file: modelPath, data_file: testData }, [
        "result_file",
      ]),
      { code: "INVALID_ARGUMENT", message },
    );
  }
});
