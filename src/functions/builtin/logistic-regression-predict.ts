import type { BuiltinFunction } from "./builtin-function.ts";
import { dotProduct, parseLogisticRegression, sigmoid } from "./logistic-regression-model.ts";
import { parseNumericRows } from "./numeric-rows.ts";
import { formatFixed } from "./rust-format.ts";
import { readTextInput, writeOutput } from "./text-input.ts";

/**
 * `builtin-logistic-regression-predict`: writes sigmoid([1, x]·w) for every row of
 * `data_file` to `result_file`, one per line with 4 decimals. The feature count is the number
 * of model parameters minus the intercept.
 */
export const logisticRegressionPredict: BuiltinFunction = {
  name: "builtin-logistic-regression-predict",
  async run(_args, runtime) {
    const model = parseLogisticRegression(await readTextInput(runtime, "model_file"), "model_file");
    const featureSize = model.parameters.length - 1;
    const rows = parseNumericRows(await readTextInput(runtime, "data_file"), {
      slot: "data_file",
      columns: featureSize,
      columnsDescription: "one per model weight",
    });
    const lines = rows.map((row) => {
      const probability = sigmoid(dotProduct([1, ...row], model.parameters));
      return `${formatFixed(probability, 4)}\n`;
    });
    await writeOutput(runtime, "result_file", lines.join(""));
    return `Predicted ${rows.length} lines of data.`;
  },
};
