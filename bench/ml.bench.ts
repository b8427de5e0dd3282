// Measures the machine-learning built-ins (GBDT train and predict, logistic regression, PCA,
// face detection): time through the built-in executor on local files, and accuracy, on the
// Teaclave fixtures and on scikit-learn's breast-cancer and digits data sets. The same models
// run in scikit-learn and xgboost through a Python child process for comparison. Without
// python3-sklearn and python3-xgboost the public data sets are skipped.
// Run: npm run bench -- bench/ml.bench.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BuiltinExecutor } from "../src/executors/builtin-executor.ts";
import { LocalFunctionRuntime } from "../src/functions/local-runtime.ts";

const rounds = 3;
const fixtures = join(import.meta.dirname, "../test/fixtures/teaclave/functions");
const work = mkdtempSync(join(tmpdir(), "cloister-ml-bench-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** Exports the data sets (`export`) or runs and times the reference models (`compare`). */
const referenceScript = String.raw`"""Reference runs for bench/ml.bench.ts: scikit-learn and xgboost on the same CSV files.

Usage: python3 -c SCRIPT MODE FOLDER, where MODE is
  export    write the breast-cancer and digits data sets as CSV files to FOLDER
  compare   train and time the reference models on them and print JSON to stdout

Times are medians of three runs inside this process, without Python's start-up.
"""
import json
import os
import sys
import time

import numpy as np


def median_time(run, rounds=3):
    times = []
    result = None
    for _ in range(rounds):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), result


def save(path, rows):
    np.savetxt(path, rows, delimiter=",", fmt="%.10g")


def export(folder):
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split

    features, labels = load_breast_cancer(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.2, random_state=0, stratify=labels
    )
    mean, deviation = train_x.mean(axis=0), train_x.std(axis=0)
    scaled_train, scaled_test = (train_x - mean) / deviation, (test_x - mean) / deviation
    save(os.path.join(folder, "cancer-train.csv"), np.column_stack([train_x, train_y]))
    save(os.path.join(folder, "cancer-train-signed.csv"), np.column_stack([train_x, 2 * train_y - 1]))
    save(os.path.join(folder, "cancer-test.csv"), test_x)
    save(os.path.join(folder, "cancer-test-labels.csv"), test_y)
    save(os.path.join(folder, "cancer-train-scaled.csv"), np.column_stack([scaled_train, train_y]))
    save(os.path.join(folder, "cancer-test-scaled.csv"), scaled_test)
    digits, digit_labels = load_digits(return_X_y=True)
    save(os.path.join(folder, "digits.csv"), np.column_stack([digits, digit_labels]))


def compare(folder):
    import sklearn
    import xgboost
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression

    train = np.loadtxt(os.path.join(folder, "cancer-train.csv"), delimiter=",")
    test_x = np.loadtxt(os.path.join(folder, "cancer-test.csv"), delimiter=",")
    test_y = np.loadtxt(os.path.join(folder, "cancer-test-labels.csv"), delimiter=",")
    train_x, train_y = train[:, :-1], train[:, -1]
    scaled = np.loadtxt(os.path.join(folder, "cancer-train-scaled.csv"), delimiter=",")
    scaled_test = np.loadtxt(os.path.join(folder, "cancer-test-scaled.csv"), delimiter=",")
    digits = np.loadtxt(os.path.join(folder, "digits.csv"), delimiter=",")[:, :-1]
    results = {"versions": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__}}

    def accuracy(predicted):
        return float(np.mean((np.asarray(predicted) >= 0.5) == (test_y == 1)))

    # xgboost 1.7's defaults, spelled out because Cloister's row passes the same values.
    defaults = xgboost.XGBClassifier(
        n_estimators=100, max_depth=6, learning_rate=0.3, reg_lambda=1, min_child_weight=1,
        gamma=0, base_score=0.5, tree_method="exact", n_jobs=1,
    )
    fit_ms, _ = median_time(lambda: defaults.fit(train_x, train_y))
    predict_ms, probabilities = median_time(lambda: defaults.predict_proba(test_x)[:, 1])
    save(os.path.join(folder, "xgboost-defaults-test.csv"), probabilities)
    results["xgboostDefaults"] = {"trainMs": fit_ms, "predictMs": predict_ms, "accuracy": accuracy(probabilities)}

    booster = xgboost.XGBClassifier(
        n_estimators=100, max_depth=4, learning_rate=0.1, tree_method="exact", n_jobs=1
    )
    fit_ms, _ = median_time(lambda: booster.fit(train_x, train_y))
    predict_ms, probabilities = median_time(lambda: booster.predict_proba(test_x)[:, 1])
    results["xgboost"] = {"trainMs": fit_ms, "predictMs": predict_ms, "accuracy": accuracy(probabilities)}

    # The same squared-error boosting as gbdt-rs, which has no L2 term and no minimum hessian.
    plain = xgboost.XGBRegressor(
        n_estimators=100, max_depth=4, learning_rate=0.1, tree_method="exact", n_jobs=1,
        objective="reg:squarederror", reg_lambda=0, min_child_weight=0,
    )
    fit_ms, _ = median_time(lambda: plain.fit(train_x, train_y))
    predict_ms, predictions = median_time(lambda: plain.predict(test_x))
    results["xgboostSquared"] = {"trainMs": fit_ms, "predictMs": predict_ms, "accuracy": accuracy(predictions)}

    regressor = GradientBoostingRegressor(n_estimators=100, max_depth=4, learning_rate=0.1, random_state=0)
    fit_ms, _ = median_time(lambda: regressor.fit(train_x, train_y))
    predict_ms, predictions = median_time(lambda: regressor.predict(test_x))
    results["sklearnSquared"] = {"trainMs": fit_ms, "predictMs": predict_ms, "accuracy": accuracy(predictions)}

    boosting = GradientBoostingClassifier(n_estimators=100, max_depth=4, learning_rate=0.1, random_state=0)
    fit_ms, _ = median_time(lambda: boosting.fit(train_x, train_y))
    predict_ms, probabilities = median_time(lambda: boosting.predict_proba(test_x)[:, 1])
    results["sklearnGbdt"] = {"trainMs": fit_ms, "predictMs": predict_ms, "accuracy": accuracy(probabilities)}

    logistic = LogisticRegression(max_iter=1000)
    fit_ms, _ = median_time(lambda: logistic.fit(scaled[:, :-1], scaled[:, -1]))
    predict_ms, probabilities = median_time(lambda: logistic.predict_proba(scaled_test)[:, 1])
    results["sklearnLogistic"] = {"trainMs": fit_ms, "predictMs": predict_ms, "accuracy": accuracy(probabilities)}

    pca = PCA(n_components=2, svd_solver="full")
    fit_ms, projection = median_time(lambda: pca.fit_transform(digits))
    results["sklearnPca"] = {"fitMs": fit_ms, "projection": projection.tolist()}
    print(json.dumps(results))


if __name__ == "__main__":
    {"export": export, "compare": compare}[sys.argv[1]](sys.argv[2])
`;

interface RunResult {
  readonly ms: number;
  readonly summary: string;
  readonly outputs: Record<string, string>;
}

let runCounter = 0;

/** Runs a built-in `rounds` times on fresh output files and returns the median time and last run. */
async function runBuiltin(
  name: string,
  args: Record<string, unknown>,
  inputs: Record<string, string>,
  outputSlots: readonly string[] = [],
): Promise<RunResult> {
  const executor = new BuiltinExecutor();
  const times: number[] = [];
  let summary = "";
  let outputs: Record<string, string> = {};
  for (let round = 0; round < rounds; round++) {
    const paths = Object.fromEntries(
      outputSlots.map((slot) => [slot, join(work, `${runCounter++}-${slot}`)]),
    );
    const runtime = new LocalFunctionRuntime({ inputs, outputs: paths });
    const started = performance.now();
    const outcome = await executor.execute(
      {
        taskId: "bench",
        functionName: name,
        executorType: "builtin",
        arguments: args,
        payload: new Uint8Array(),
        limits: { cpuTimeMs: 0, memoryBytes: 0, outputBytes: 0 },
      },
      runtime,
      new AbortController().signal,
    );
    times.push(performance.now() - started);
    summary = outcome.summary;
    outputs = Object.fromEntries(
      Object.entries(paths).map(([slot, path]) => [slot, readFileSync(path, "utf8")]),
    );
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, summary, outputs };
}

function fixture(path: string): string {
  return join(fixtures, path);
}

function milliseconds(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}

function numbers(text: string): number[] {
  return text
    .trim()
    .split(/[\n,]/)
    .map((value) => Number(value));
}

function maxDifference(left: readonly number[], right: readonly number[]): number {
  return left.reduce((max, value, index) => Math.max(max, Math.abs(value - right[index]!)), 0);
}

/** Fraction of predictions that fall on the side of 0.5 given by their 0/1 label. */
function accuracy(predictions: readonly number[], labels: readonly number[]): number {
  const correct = predictions.filter((value, index) => value >= 0.5 === (labels[index] === 1));
  return correct.length / labels.length;
}

/** Finds a python3 that imports sklearn and xgboost: the one on the PATH, then Debian's. */
function findPython(): string | undefined {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const probe = spawnSync(candidate, ["-c", "import sklearn, xgboost"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function runReference(python: string, mode: string): string {
  const result = spawnSync(python, ["-c", referenceScript, mode, work], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`reference ${mode} failed: ${result.stderr}`);
  return result.stdout;
}

const rows: string[] = [];
const notes: string[] = [];

function row(task: string, data: string, cloister: string, sklearn: string, xgboost: string): void {
  rows.push(`| ${task} | ${data} | ${cloister} | ${sklearn} | ${xgboost} |`);
}

async function benchFixtures(): Promise<void> {
  console.error("ml bench: Teaclave fixtures");
  const gbdtArgs = {
    feature_size: 4,
    max_depth: 4,
    iterations: 100,
    shrinkage: 0.1,
    feature_sample_ratio: 1.0,
    data_sample_ratio: 1.0,
    min_leaf_size: 1,
    loss: "LAD",
    training_optimization_level: 2,
  };
  const train = await runBuiltin(
    "builtin-gbdt-train",
    gbdtArgs,
    { training_data: fixture("gbdt_training/train.txt") },
    ["trained_model"],
  );
  const expectedModel = readFileSync(fixture("gbdt_training/expected_model.txt"), "utf8");
  const sameModel = train.outputs.trained_model === expectedModel ? "yes" : "NO";
  row(
    "GBDT train (LAD)",
    "Teaclave train.txt, 120 × 4",
    `${milliseconds(train.ms)} ms, model byte-identical to Teaclave: ${sameModel}`,
    "",
    "",
  );

  const predict = await runBuiltin(
    "builtin-gbdt-predict",
    {},
    {
      model_file: fixture("gbdt_prediction/model.txt"),
      data_file: fixture("gbdt_prediction/test_data.txt"),
    },
    ["result_file"],
  );
  const expectedResult = readFileSync(fixture("gbdt_prediction/expected_result.txt"), "utf8");
  const sameResult = predict.outputs.result_file === expectedResult ? "yes" : "NO";
  row(
    "GBDT predict",
    "Teaclave test_data.txt, 30 × 4",
    `${milliseconds(predict.ms)} ms, output byte-identical: ${sameResult}`,
    "",
    "",
  );

  const logistic = await runBuiltin(
    "builtin-logistic-regression-train",
    { alg_alpha: 0.3, alg_iters: 100, feature_size: 30 },
    { training_data: fixture("logistic_regression_training/train.txt") },
    ["model_file"],
  );
  const expectedParameters = JSON.parse(
    readFileSync(fixture("logistic_regression_training/expected_model.txt"), "utf8"),
  ).parameters as number[];
  const parameters = JSON.parse(logistic.outputs.model_file!).parameters as number[];
  row(
    "Logistic regression train",
    "Teaclave train.txt, 100 × 30, 100 steps",
    `${milliseconds(logistic.ms)} ms, max parameter difference ${maxDifference(parameters, expectedParameters).toExponential(1)}`,
    "",
    "",
  );

  const pca = await runBuiltin(
    "builtin_principal_components_analysis",
    { n: 2, feature_size: 4, center: true },
    { input_data: fixture("princopal_components_analysis/input.txt") },
    ["output_data"],
  );
  const expectedProjection = numbers(
    readFileSync(fixture("princopal_components_analysis/expected_result.txt"), "utf8"),
  );
  row(
    "PCA, 2 components",
    "Teaclave input.txt, 90 × 4",
    `${milliseconds(pca.ms)} ms, max difference ${maxDifference(numbers(pca.outputs.output_data!), expectedProjection).toExponential(1)}`,
    "",
    "",
  );

  const image = [...readFileSync(fixture("face_detection/input.jpg"))];
  const faces = await runBuiltin(
    "builtin-face-detection",
    {
      image,
      min_face_size: 20,
      score_thresh: 2.0,
      pyramid_scale_factor: 0.8,
      slide_window_step_x: 4,
      slide_window_step_y: 4,
    },
    {},
  );
  row(
    "Face detection",
    "Teaclave input.jpg, 1666 × 1136",
    `${milliseconds(faces.ms)} ms, ${JSON.parse(faces.summary).length} faces (rustface: 29)`,
    "",
    "",
  );
}

interface ReferenceRun {
  readonly trainMs: number;
  readonly predictMs: number;
  readonly accuracy: number;
}

interface ReferenceResults {
  readonly versions: { sklearn: string; xgboost: string };
  readonly xgboostDefaults: ReferenceRun;
  readonly xgboost: ReferenceRun;
  readonly xgboostSquared: ReferenceRun;
  readonly sklearnGbdt: ReferenceRun;
  readonly sklearnSquared: ReferenceRun;
  readonly sklearnLogistic: ReferenceRun;
  readonly sklearnPca: { fitMs: number; projection: number[][] };
}

function describe(run: { trainMs: number; predictMs: number; accuracy: number }): string {
  return `train ${milliseconds(run.trainMs)} ms, predict ${milliseconds(run.predictMs)} ms, accuracy ${(run.accuracy * 100).toFixed(1)}%`;
}

async function benchPublicData(python: string): Promise<void> {
  console.error("ml bench: exporting scikit-learn data sets");
  runReference(python, "export");
  console.error("ml bench: reference models");
  const reference = JSON.parse(runReference(python, "compare")) as ReferenceResults;
  const labels = numbers(readFileSync(join(work, "cancer-test-labels.csv"), "utf8"));
  const testFile = join(work, "cancer-test.csv");

  console.error("ml bench: Cloister GBDT with xgboost's defaults on breast cancer");
  const regularizedTrain = await runBuiltin(
    "builtin-gbdt-train",
    {
      feature_size: 30,
      max_depth: 6,
      iterations: 100,
      shrinkage: 0.3,
      feature_sample_ratio: 1.0,
      data_sample_ratio: 1.0,
      min_leaf_size: 1,
      loss: "LogLikelyhood",
      training_optimization_level: 2,
      reg_lambda: 1,
      min_child_weight: 1,
      min_split_loss: 0,
      base_score: 0.5,
    },
    { training_data: join(work, "cancer-train-signed.csv") },
    ["trained_model"],
  );
  const regularizedModel = join(work, "model-regularized.json");
  writeFileSync(regularizedModel, regularizedTrain.outputs.trained_model!);
  const regularizedPredict = await runBuiltin(
    "builtin-gbdt-predict",
    {},
    { model_file: regularizedModel, data_file: testFile },
    ["result_file"],
  );
  const ourProbabilities = numbers(regularizedPredict.outputs.result_file!);
  const xgboostProbabilities = numbers(
    readFileSync(join(work, "xgboost-defaults-test.csv"), "utf8"),
  );
  const agreeing = ourProbabilities.filter(
    (value, index) => value >= 0.5 === xgboostProbabilities[index]! >= 0.5,
  ).length;
  row(
    "GBDT, LogLikelyhood with reg_lambda 1, min_child_weight 1, min_split_loss 0, base_score 0.5 vs XGBClassifier with its defaults",
    "breast cancer, 455 train / 114 test × 30, depth 6, 100 trees, rate 0.3",
    `${describe({
      trainMs: regularizedTrain.ms,
      predictMs: regularizedPredict.ms,
      accuracy: accuracy(ourProbabilities, labels),
    })}; ${agreeing} of ${labels.length} test predictions on xgboost's side of 0.5, ` +
      `max probability difference ${maxDifference(ourProbabilities, xgboostProbabilities).toExponential(1)}`,
    "",
    describe(reference.xgboostDefaults),
  );

  console.error("ml bench: Cloister GBDT in gbdt-rs mode on breast cancer");
  for (const [loss, trainFile] of [
    ["LogLikelyhood", "cancer-train-signed.csv"],
    ["SquaredError", "cancer-train.csv"],
  ] as const) {
    const train = await runBuiltin(
      "builtin-gbdt-train",
      {
        feature_size: 30,
        max_depth: 4,
        iterations: 100,
        shrinkage: 0.1,
        feature_sample_ratio: 1.0,
        data_sample_ratio: 1.0,
        min_leaf_size: 1,
        loss,
        training_optimization_level: 2,
      },
      { training_data: join(work, trainFile) },
      ["trained_model"],
    );
    const modelFile = join(work, `model-${loss}.json`);
    writeFileSync(modelFile, train.outputs.trained_model!);
    const predict = await runBuiltin(
      "builtin-gbdt-predict",
      {},
      { model_file: modelFile, data_file: testFile },
      ["result_file"],
    );
    const cloister = describe({
      trainMs: train.ms,
      predictMs: predict.ms,
      accuracy: accuracy(numbers(predict.outputs.result_file!), labels),
    });
    if (loss === "LogLikelyhood") {
      row(
        "GBDT, gbdt-rs mode (no L2, no min child weight), LogLikelyhood vs GradientBoostingClassifier and XGBClassifier (L2 1, min child weight 1)",
        "breast cancer, 455 train / 114 test × 30, depth 4, 100 trees, rate 0.1",
        cloister,
        describe(reference.sklearnGbdt),
        describe(reference.xgboost),
      );
    } else {
      row(
        "GBDT, gbdt-rs mode, SquaredError vs GradientBoostingRegressor and XGBRegressor (squared error, L2 0, min child weight 0)",
        "the same",
        cloister,
        describe(reference.sklearnSquared),
        describe(reference.xgboostSquared),
      );
    }
  }

  console.error("ml bench: Cloister logistic regression on breast cancer");
  const logisticTrain = await runBuiltin(
    "builtin-logistic-regression-train",
    { alg_alpha: 0.1, alg_iters: 1000, feature_size: 30 },
    { training_data: join(work, "cancer-train-scaled.csv") },
    ["model_file"],
  );
  const logisticModel = join(work, "logistic.json");
  writeFileSync(logisticModel, logisticTrain.outputs.model_file!);
  const logisticPredict = await runBuiltin(
    "builtin-logistic-regression-predict",
    {},
    { model_file: logisticModel, data_file: join(work, "cancer-test-scaled.csv") },
    ["result_file"],
  );
  row(
    "Logistic regression (1000 steps, rate 0.1) vs LogisticRegression (lbfgs, C=1)",
    "breast cancer, standardized, 455 / 114 × 30",
    describe({
      trainMs: logisticTrain.ms,
      predictMs: logisticPredict.ms,
      accuracy: accuracy(numbers(logisticPredict.outputs.result_file!), labels),
    }),
    describe(reference.sklearnLogistic),
    "",
  );

  console.error("ml bench: Cloister PCA on digits");
  const pca = await runBuiltin(
    "builtin_principal_components_analysis",
    { n: 2, feature_size: 64, center: true },
    { input_data: join(work, "digits.csv") },
    ["output_data"],
  );
  const ours = pca.outputs
    .output_data!.trim()
    .split("\n")
    .map((line) => line.split(",").map(Number));
  // Components are unique only up to sign, so each column is compared after aligning signs.
  let difference = 0;
  for (let column = 0; column < 2; column++) {
    const sign =
      Math.sign(ours[0]![column]!) === Math.sign(reference.sklearnPca.projection[0]![column]!)
        ? 1
        : -1;
    for (const [index, values] of ours.entries()) {
      difference = Math.max(
        difference,
        Math.abs(values[column]! - sign * reference.sklearnPca.projection[index]![column]!),
      );
    }
  }
  row(
    "PCA, 2 components vs sklearn PCA",
    "digits, 1797 × 64",
    `${milliseconds(pca.ms)} ms, max difference to sklearn ${difference.toExponential(1)}`,
    `${milliseconds(reference.sklearnPca.fitMs)} ms`,
    "",
  );
  notes.push(
    `scikit-learn ${reference.versions.sklearn}, xgboost ${reference.versions.xgboost} (exact tree method, one thread), run by ${python}.`,
  );
}

await benchFixtures();
const python = findPython();
if (python === undefined) {
  notes.push(
    "Public data sets skipped: python3-sklearn not installed (both python3-sklearn and python3-xgboost are needed).",
  );
  console.error("ml bench: skipped: python3-sklearn not installed");
} else {
  await benchPublicData(python);
}

const lines = [
  "## Machine-learning built-ins",
  "",
  `Median of ${rounds} runs each. Cloister times cover the whole built-in run through the executor: reading the input files, parsing, computing and writing the outputs. Reference times cover only fit and predict inside Python. Load average at the end: ${loadavg()[0]!.toFixed(1)}.`,
  "",
  "| Task | Data | Cloister | scikit-learn | xgboost |",
  "| --- | --- | --- | --- | --- |",
  ...rows,
  "",
  ...notes,
  "",
  "Command: `npm run bench -- bench/ml.bench.ts`",
];
process.stdout.write(lines.join("\n") + "\n");
