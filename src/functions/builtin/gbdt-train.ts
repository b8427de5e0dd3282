import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireNumber, requireString, requireUnsignedInteger } from "./arguments.ts";
import type { GbdtConfig } from "./gbdt-model.ts";
import { lossVariants, serializeGbdt } from "./gbdt-model.ts";
import { trainGbdt } from "./gbdt-trainer.ts";
import { parseNumericRows } from "./numeric-rows.ts";
import { readTextInput, writeOutput } from "./text-input.ts";

function requireRatio(args: Readonly<Record<string, unknown>>, name: string): number {
  const value = requireNumber(args, name);
  if (!(value > 0 && value <= 1)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${name}" must be greater than 0 and at most 1, got ${value}`,
    );
  }
  return value;
}

function requirePositiveInteger(args: Readonly<Record<string, unknown>>, name: string): number {
  const value = requireUnsignedInteger(args, name);
  if (value === 0) {
    throw new CloisterError("INVALID_ARGUMENT", `argument "${name}" must be at least 1, got 0`);
  }
  return value;
}

/** Reads the arguments of `builtin-gbdt-train` into a gbdt-rs config. */
export function readGbdtTrainConfig(args: Readonly<Record<string, unknown>>): GbdtConfig {
  const lossName = requireString(args, "loss");
  // gbdt-rs silently trains SquaredError for an unknown loss name, which hides typos.
  if (!Object.hasOwn(lossVariants, lossName)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "loss" must be one of ${Object.keys(lossVariants).join(", ")}, ` +
        `got ${JSON.stringify(lossName)}`,
    );
  }
  const level = requireUnsignedInteger(args, "training_optimization_level");
  if (level > 255) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "training_optimization_level" must be at most 255, got ${level}`,
    );
  }
  return {
    featureSize: requirePositiveInteger(args, "feature_size"),
    maxDepth: requireUnsignedInteger(args, "max_depth"),
    iterations: requirePositiveInteger(args, "iterations"),
    shrinkage: Math.fround(requireNumber(args, "shrinkage")),
    featureSampleRatio: requireRatio(args, "feature_sample_ratio"),
    dataSampleRatio: requireRatio(args, "data_sample_ratio"),
    minLeafSize: requireUnsignedInteger(args, "min_leaf_size"),
    loss: lossVariants[lossName as keyof typeof lossVariants],
    debug: false,
    initialGuessEnabled: false,
    // gbdt-rs treats every level above 2 as 2. The level changes only speed and memory.
    trainingOptimizationLevel: Math.min(level, 2),
  };
}

/**
 * `builtin-gbdt-train`: trains a gbdt-rs gradient-boosted tree model on `training_data`, rows
 * of `feature_size` f32 features followed by the label, and writes the model JSON to
 * `trained_model`.
 */
export const gbdtTrain: BuiltinFunction = {
  name: "builtin-gbdt-train",
  async run(args, runtime) {
    const config = readGbdtTrainConfig(args);
    const rows = parseNumericRows(await readTextInput(runtime, "training_data"), {
      slot: "training_data",
      columns: config.featureSize + 1,
      columnsDescription: `${config.featureSize} features and a label`,
      float32: true,
    });
    const samples = rows.map((row) => ({ features: row.slice(0, -1), label: row.at(-1)! }));
    const model = trainGbdt(config, samples);
    await writeOutput(runtime, "trained_model", serializeGbdt(model));
    return `Trained ${rows.length} lines of data.`;
  },
};
