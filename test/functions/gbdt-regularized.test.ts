import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { gbdtTrainingFixtureArguments, teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";
import { readGbdtTrainConfig, readRegularization } from "../../src/functions/builtin/gbdt-train.ts";
import { trainRegularizedGbdt } from "../../src/functions/builtin/gbdt-regularized-trainer.ts";
import { predictGbdt, unknownFeatureValue } from "../../src/functions/builtin/gbdt-model.ts";
import { formatFixed } from "../../src/functions/builtin/rust-format.ts";

// The expected trees below were computed by hand from xgboost's formulas (squared error, so
// every hessian is 1) and match what xgboost 1.7.4 grows with tree_method="exact".

const trainData = teaclaveFixture("functions/gbdt_training/train.txt");
const fixtureArgs = gbdtTrainingFixtureArguments;

/** One split stump with learning rate 1 and no base score, so leaf values are raw weights. */
const stumpArgs = {
  feature_size: 1,
  max_depth: 1,
  iterations: 1,
  shrinkage: 1,
  feature_sample_ratio: 1.0,
  data_sample_ratio: 1.0,
  min_leaf_size: 1,
  loss: "SquaredError",
  training_optimization_level: 2,
  reg_lambda: 0,
  base_score: 0,
};

/** x = 1, 2, 3, 4 with labels 0, 0, 0, 10: each threshold gives a different loss change. */
const stepData = "1,0\n2,0\n3,0\n4,10\n";

/** A node of the gbdt-rs model JSON. */
interface ModelNode {
  value: { feature_value: number; pred: number; missing: number; is_leaf: boolean };
  left: number;
  right: number;
}

interface TreeSummary {
  readonly leaf: boolean;
  readonly threshold?: number;
  readonly missing?: number;
  readonly left?: number;
  readonly right?: number;
  readonly pred: number;
}

async function train(args: Record<string, unknown>, data: string): Promise<string> {
  const input = await writeTempInput("train.csv", data);
  const result = await runBuiltin("builtin-gbdt-train", args, { training_data: input }, [
    "trained_model",
  ]);
  return result.outputs.trained_model!;
}

/** Reads a depth-1 tree: the root's split and its two leaf values, or the single leaf. */
function summarizeStump(modelText: string): TreeSummary {
  const model = JSON.parse(modelText);
  const nodes = model.trees[0].tree.tree as ModelNode[];
  const root = nodes[0]!;
  // The model writes f32 values in their shortest form, so they are read back as f32.
  const pred = Math.fround(root.value.pred);
  if (root.value.is_leaf) return { leaf: true, pred };
  return {
    leaf: false,
    threshold: Math.fround(root.value.feature_value),
    missing: root.value.missing,
    left: Math.fround(nodes[root.left]!.value.pred),
    right: Math.fround(nodes[root.right]!.value.pred),
    pred,
  };
}

function leafValues(modelText: string): number[] {
  const model = JSON.parse(modelText);
  return model.trees.flatMap((tree: { tree: { tree: ModelNode[] } }) =>
    tree.tree.tree.filter((node) => node.value.is_leaf).map((node) => Math.fround(node.value.pred)),
  );
}

test("gbdt-train without regularization stays byte-exact", async () => {
  const model = await train(fixtureArgs, await readFile(trainData, "utf8"));
  const expected = await readFile(
    teaclaveFixture("functions/gbdt_training/expected_model.txt"),
    "utf8",
  );
  assert.equal(model, expected);
  assert.equal(readRegularization(fixtureArgs, "LAD"), undefined);
});

test("regularized stump picks best split", async () => {
  // Loss changes G_L²/H_L + G_R²/H_R − G²/H with G = −10, H = 4: at 1.5 it is 100/3 − 25,
  // at 2.5 100/2 − 25 = 25, at 3.5 100/1 − 25 = 75.
  const stump = summarizeStump(await train({ ...stumpArgs, min_child_weight: 1 }, stepData));
  assert.equal(stump.leaf, false);
  assert.equal(stump.threshold, 3.5);
  assert.equal(stump.left, -0);
  assert.equal(stump.right, 10);
  // Dense columns send missing values left, as xgboost does.
  assert.equal(stump.missing, -1);
});

test("min_child_weight rejects small children", async () => {
  // With a hessian of 1 per row, min_child_weight 2 forbids the one-row child at 3.5.
  const two = summarizeStump(await train({ ...stumpArgs, min_child_weight: 2 }, stepData));
  assert.equal(two.leaf, false);
  assert.equal(two.threshold, 2.5);
  assert.equal(two.left, -0);
  assert.equal(two.right, 5);

  // min_child_weight 3 leaves no split of four rows, so the root is a leaf of mean residual.
  const three = summarizeStump(await train({ ...stumpArgs, min_child_weight: 3 }, stepData));
  assert.equal(three.leaf, true);
  assert.equal(three.pred, 2.5);
});

test("reg_lambda shrinks leaf weights", async () => {
  // The right leaf is −G/(H+λ) = 10/(1+9) = 1. The split stays at 3.5, where the loss change
  // is 100/10 + 0 − 100/13.
  const stump = summarizeStump(
    await train({ ...stumpArgs, reg_lambda: 9, min_child_weight: 1 }, stepData),
  );
  assert.equal(stump.threshold, 3.5);
  assert.equal(stump.right, 1);
  assert.equal(stump.left, -0);

  // A single root leaf over train.txt is Σy/(n+λ): its 120 labels add up to 238.
  const data = await readFile(trainData, "utf8");
  const rootArgs = { ...stumpArgs, feature_size: 4, max_depth: 0 };
  const plain = summarizeStump(await train({ ...rootArgs, reg_lambda: 0 }, data));
  assert.equal(plain.pred, Math.fround(238 / 120));
  const shrunk = summarizeStump(await train({ ...rootArgs, reg_lambda: 118 }, data));
  assert.equal(shrunk.pred, 1);

  const args = { ...fixtureArgs, loss: "SquaredError", iterations: 10, base_score: 2 };
  const loose = leafValues(await train({ ...args, reg_lambda: 0, min_child_weight: 0 }, data));
  const strict = leafValues(await train({ ...args, reg_lambda: 100, min_child_weight: 0 }, data));
  const maxAbs = (values: number[]): number => Math.max(...values.map(Math.abs));
  assert.ok(
    maxAbs(strict) < maxAbs(loose) / 2,
    `max leaf ${maxAbs(strict)} with L2 100, ${maxAbs(loose)} without`,
  );
});

test("min_split_loss prunes weak splits", async () => {
  // The split at 3.5 changes the loss by 75: xgboost keeps it for γ = 74 and prunes it for 76.
  const keptStump = summarizeStump(await train({ ...stumpArgs, min_split_loss: 74 }, stepData));
  assert.equal(keptStump.leaf, false);
  assert.equal(keptStump.threshold, 3.5);
  const prunedStump = summarizeStump(await train({ ...stumpArgs, min_split_loss: 76 }, stepData));
  assert.equal(prunedStump.leaf, true);
  assert.equal(prunedStump.pred, 2.5);
});

test("regularized split learns missing direction", async () => {
  // Two missing rows with label 10: sending them right with x = 3 (loss change 120) beats every
  // split that sends them left.
  const missing = String(unknownFeatureValue);
  const data = `${missing},10\n${missing},10\n1,0\n2,0\n3,10\n`;
  const stump = summarizeStump(await train({ ...stumpArgs, min_child_weight: 1 }, data));
  assert.equal(stump.threshold, 2.5);
  assert.equal(stump.missing, 1);
  assert.equal(stump.left, -0);
  assert.equal(stump.right, 10);
});

test("regularized predict matches training margins", async () => {
  const rows = (await readFile(trainData, "utf8"))
    .trim()
    .split("\n")
    .map((line) => line.split(",").map((value) => Math.fround(Number(value))));
  // Class 1 against the rest, with LogLikelyhood's −1/1 labels.
  const signed = rows.map((row) => [...row.slice(0, 4), row[4] === 1 ? 1 : -1]);
  const args = {
    ...fixtureArgs,
    loss: "LogLikelyhood",
    max_depth: 6,
    iterations: 20,
    shrinkage: 0.3,
    reg_lambda: 1,
  };
  const samples = signed.map((row) => ({ features: row.slice(0, 4), label: row[4]! }));
  const { model, margins } = trainRegularizedGbdt(
    readGbdtTrainConfig(args),
    readRegularization(args, "LogLikelyhood")!,
    samples,
  );
  const sigmoid = (margin: number): number =>
    Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-margin))));
  for (const [index, sample] of samples.entries()) {
    assert.equal(predictGbdt(model, sample.features), sigmoid(margins[index]!), `row ${index}`);
  }

  // The built-ins write and read the same model, and predict what training computed.
  const modelText = await train(args, signed.map((row) => row.join(",")).join("\n"));
  const modelPath = await writeTempInput("model.json", modelText);
  const features = signed.map((row) => row.slice(0, 4).join(",")).join("\n");
  const predicted = await runBuiltin(
    "builtin-gbdt-predict",
    {},
    { model_file: modelPath, data_file: await writeTempInput("features.csv", features) },
    ["result_file"],
  );
  const expected = Array.from(margins, (margin) => `${formatFixed(sigmoid(margin), 10)}\n`);
  assert.equal(predicted.outputs.result_file, expected.join(""));
  // The model has learned the class: at least 95% of the training rows are on the right side.
  const wrong = signed.filter((row, index) => sigmoid(margins[index]!) >= 0.5 !== (row[4] === 1));
  assert.ok(wrong.length <= 6, `${wrong.length} of 120 training rows misclassified`);
});

test("sampled regularized training predicts consistently", async () => {
  const rows = (await readFile(trainData, "utf8"))
    .trim()
    .split("\n")
    .map((line) => line.split(",").map((value) => Math.fround(Number(value))));
  const args = {
    ...fixtureArgs,
    loss: "LogLikelyhood",
    iterations: 20,
    shrinkage: 0.3,
    feature_sample_ratio: 0.5,
    data_sample_ratio: 0.7,
    min_child_weight: 0.5,
  };
  // Class 3 against the rest, with LogLikelyhood's −1/1 labels.
  const samples = rows.map((row) => ({ features: row.slice(0, 4), label: row[4] === 3 ? 1 : -1 }));
  const { model, margins } = trainRegularizedGbdt(
    readGbdtTrainConfig(args),
    readRegularization(args, "LogLikelyhood")!,
    samples,
  );
  // Each tree skips 30% of the rows, whose margins come from walking the written tree.
  const sigmoid = (margin: number): number =>
    Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-margin))));
  for (const [index, sample] of samples.entries()) {
    assert.equal(predictGbdt(model, sample.features), sigmoid(margins[index]!), `row ${index}`);
  }
  const wrong = samples.filter((sample, index) => margins[index]! >= 0 !== sample.label > 0);
  assert.ok(wrong.length <= 3, `${wrong.length} of 120 training rows misclassified`);
});

test("LogLikelyhood and binary:logistic agree", async () => {
  const rows = (await readFile(trainData, "utf8")).trim().split("\n");
  const args = { ...fixtureArgs, max_depth: 3, iterations: 10, shrinkage: 0.3, reg_lambda: 1 };
  const withLabel = (label: (original: string) => string): string =>
    rows.map((line) => line.replace(/[^,]*$/, label)).join("\n");
  const signed = await train(
    { ...args, loss: "LogLikelyhood" },
    withLabel((label) => (Number(label) === 3 ? "1" : "-1")),
  );
  const binary = await train(
    { ...args, loss: "binary:logistic" },
    withLabel((label) => (Number(label) === 3 ? "1" : "0")),
  );
  // LogLikelyhood's trees hold half of binary:logistic's weights, because its link is σ(2·sum).
  const halved = leafValues(binary).map((value) => Math.fround(value / 2));
  assert.deepEqual(leafValues(signed), halved);
  assert.ok(halved.some((value) => value !== 0));
});

test("regularized training rejects bad arguments", async () => {
  const data = await readFile(trainData, "utf8");
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ reg_lambda: -1 }, /argument "reg_lambda" must be a number from 0 to 3.4e38, got -1/],
    [{ reg_lambda: "abc" }, /argument "reg_lambda" must be a number from 0 to 3.4e38, got "abc"/],
    [{ min_child_weight: -0.5 }, /argument "min_child_weight" must be a number from 0 to/],
    [{ min_child_weight: true }, /argument "min_child_weight" must be a number from 0 to/],
    [{ min_split_loss: 1e39 }, /argument "min_split_loss" must be a number from 0 to 3.4e38/],
    [{ min_split_loss: "" }, /argument "min_split_loss" must be a number from 0 to 3.4e38/],
    [
      { loss: "LogLikelyhood", base_score: 1 },
      /argument "base_score" must be a probability greater than 0 and less than 1 for loss LogLikelyhood, got 1/,
    ],
    [{ loss: "binary:logistic", base_score: 0 }, /"base_score" must be a probability/],
    [{ base_score: "NaN" }, /argument "base_score" must be a number from -3.4e38 to 3.4e38/],
    [
      { loss: "LAD", reg_lambda: 1 },
      /argument "reg_lambda" needs a loss with a second-order gradient \(SquaredError, LogLikelyhood, reg:linear, reg:logistic, binary:logistic, binary:logitraw\), got loss "LAD"/,
    ],
    [{ loss: "multi:softmax", min_split_loss: 1 }, /"min_split_loss" needs a loss with a second/],
  ];
  for (const [extra, message] of cases) {
    const args = { ...fixtureArgs, loss: "SquaredError", iterations: 1, ...extra };
    await assert.rejects(train(args, data), { code: "INVALID_ARGUMENT", message });
  }
});

test("regularized training rejects out-of-range labels", async () => {
  const args = { ...stumpArgs, base_score: 0.5 };
  await assert.rejects(train({ ...args, loss: "LogLikelyhood" }, "1,1\n2,2\n"), {
    code: "INVALID_ARGUMENT",
    message:
      'input "training_data" line 2: label 2 is outside [-1, 1], the label range of loss LogLikelyhood',
  });
  await assert.rejects(train({ ...args, loss: "binary:logistic" }, "1,-1\n2,1\n"), {
    code: "INVALID_ARGUMENT",
    message:
      'input "training_data" line 1: label -1 is outside [0, 1], the label range of loss binary:logistic',
  });
});
