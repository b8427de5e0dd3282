import type { BuiltinFunction } from "./builtin-function.ts";
import { requireNumber, requireUnsignedInteger } from "./arguments.ts";
import type { LogisticRegressionModel } from "./logistic-regression-model.ts";
import { dotProduct, serializeLogisticRegression, sigmoid } from "./logistic-regression-model.ts";
import { parseNumericRows } from "./numeric-rows.ts";
import { readTextInput, writeOutput } from "./text-input.ts";

/**
 * Trains rusty-machine's logistic regression: a column of ones goes in front of the features,
 * every parameter starts at 0.5, and each of `iterations` steps of plain gradient descent sets
 * w ← w − α·Xᵀ(sigmoid(Xw) − y)/n.
 */
export function trainLogisticRegression(
  features: readonly (readonly number[])[],
  labels: readonly number[],
  alpha: number,
  iterations: number,
): LogisticRegressionModel {
  const rows = features.map((row) => Float64Array.from([1, ...row]));
  const columnCount = rows[0]?.length ?? 1;
  const columns = Array.from({ length: columnCount }, (_, column) =>
    Float64Array.from(rows, (row) => row[column]!),
  );
  let parameters = new Float64Array(columnCount).fill(0.5);
  const errors = new Float64Array(rows.length);
  for (let step = 0; step < iterations; step++) {
    for (let i = 0; i < rows.length; i++) {
      errors[i] = sigmoid(dotProduct(rows[i]!, parameters)) - labels[i]!;
    }
    const next = new Float64Array(columnCount);
    for (let column = 0; column < columnCount; column++) {
      const gradient = dotProduct(columns[column]!, errors) / rows.length;
      next[column] = parameters[column]! - gradient * alpha;
    }
    parameters = next;
  }
  return { alpha, iterations, parameters: [...parameters] };
}

/**
 * `builtin-logistic-regression-train`: trains on `training_data`, rows of `feature_size`
 * numbers followed by the 0/1 label, and writes the model JSON to `model_file`.
 */
export const logisticRegressionTrain: BuiltinFunction = {
  name: "builtin-logistic-regression-train",
  async run(args, runtime) {
    const alpha = requireNumber(args, "alg_alpha");
    const iterations = requireUnsignedInteger(args, "alg_iters");
    const featureSize = requireUnsignedInteger(args, "feature_size");
    const rows = parseNumericRows(await readTextInput(runtime, "training_data"), {
      slot: "training_data",
      columns: featureSize + 1,
      columnsDescription: `${featureSize} features and a label`,
    });
    const model = trainLogisticRegression(
      rows.map((row) => row.slice(0, featureSize)),
      rows.map((row) => row[featureSize]!),
      alpha,
      iterations,
    );
    await writeOutput(runtime, "model_file", serializeLogisticRegression(model));
    return `Trained ${rows.length} lines of data.`;
  },
};
