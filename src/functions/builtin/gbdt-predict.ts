import type { BuiltinFunction } from "./builtin-function.ts";
import { predictGbdt } from "./gbdt-model.ts";
import { parseGbdtModel } from "./gbdt-model-parser.ts";
import { parseNumericRows } from "./numeric-rows.ts";
import { formatFixed } from "./rust-format.ts";
import { readTextInput, writeOutput } from "./text-input.ts";

/**
 * `builtin-gbdt-predict`: applies the gbdt-rs model in `model_file` to the rows of
 * comma-separated f32 features in `data_file` and writes one prediction per line to
 * `result_file`, with 10 decimals as Rust's `{:.10}` prints them.
 */
export const gbdtPredict: BuiltinFunction = {
  name: "builtin-gbdt-predict",
  async run(_args, runtime) {
    const model = parseGbdtModel(await readTextInput(runtime, "model_file"), "model_file");
    const rows = parseNumericRows(await readTextInput(runtime, "data_file"), {
      slot: "data_file",
      columns: model.config.featureSize,
      columnsDescription: "the model's conf.feature_size",
      float32: true,
    });
    const lines = rows.map((features) => `${formatFixed(predictGbdt(model, features), 10)}\n`);
    await writeOutput(runtime, "result_file", lines.join(""));
    return `Predict result has ${rows.length} lines of data.`;
  },
};
