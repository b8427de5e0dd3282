import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireNumber, requireString, requireUnsignedInteger } from "./arguments.ts";
import type { GbdtConfig } from "./gbdt-model.ts";
import { lossVariants, serializeGbdt } from "./gbdt-model.ts";
import type { RegularizationConfig } from "./gbdt-regularized-trainer.ts";
import {
  isLogisticLoss,
  isRegularizedLoss,
  trainRegularizedGbdt,
} from "./gbdt-regularized-trainer.ts";
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

/** Arguments that switch training to xgboost's regularized algorithm, with xgboost 1.7's defaults. */
export const regularizationDefaults = {
  reg_lambda: 1,
  min_child_weight: 1,
  min_split_loss: 0,
  base_score: 0.5,
} as const;

type RegularizationArgument = keyof typeof regularizationDefaults;

/** Largest finite f32, the bound of values that stay finite once rounded to f32. */
const f32Max = 3.4028234663852886e38;

/**
 * Reads an optional regularization argument as an f32, or its default when it is absent.
 * Numbers may come as JSON numbers or as text, as Teaclave sends them.
 */
function readRegularizationArgument(
  args: Readonly<Record<string, unknown>>,
  name: RegularizationArgument,
  range: { readonly description: string; readonly contains: (value: number) => boolean },
): number {
  const value = args[name] ?? regularizationDefaults[name];
  const parsed = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isFinite(parsed) || !range.contains(parsed)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${name}" must be ${range.description}, got ${JSON.stringify(value)}`,
    );
  }
  return Math.fround(parsed);
}

const nonNegativeRange = {
  description: "a number from 0 to 3.4e38",
  contains: (value: number) => value >= 0 && value <= f32Max,
};

/**
 * Reads the regularization arguments, or returns undefined when none is given, which keeps
 * gbdt-rs's algorithm. An argument that is left out takes xgboost 1.7's default.
 */
export function readRegularization(
  args: Readonly<Record<string, unknown>>,
  lossName: string,
): RegularizationConfig | undefined {
  const names = Object.keys(regularizationDefaults) as RegularizationArgument[];
  const presentNames = names.filter((name) => args[name] !== undefined);
  if (presentNames.length === 0) return undefined;
  const loss = lossVariants[lossName as keyof typeof lossVariants];
  if (!isRegularizedLoss(loss)) {
    const supported = Object.entries(lossVariants)
      .filter(([, variant]) => isRegularizedLoss(variant))
      .map(([name]) => name);
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${presentNames[0]}" needs a loss with a second-order gradient ` +
        `(${supported.join(", ")}), got loss ${JSON.stringify(lossName)}`,
    );
  }
  const baseScoreRange = isLogisticLoss(loss)
    ? {
        description: `a probability greater than 0 and less than 1 for loss ${lossName}`,
        contains: (value: number) => value > 0 && value < 1,
      }
    : {
        description: "a number from -3.4e38 to 3.4e38",
        contains: (value: number) => Math.abs(value) <= f32Max,
      };
  return {
    regLambda: readRegularizationArgument(args, "reg_lambda", nonNegativeRange),
    minChildWeight: readRegularizationArgument(args, "min_child_weight", nonNegativeRange),
    minSplitLoss: readRegularizationArgument(args, "min_split_loss", nonNegativeRange),
    baseScore: readRegularizationArgument(args, "base_score", baseScoreRange),
  };
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
 *
 * Required arguments, as in Teaclave:
 * - `feature_size`: features per row.
 * - `max_depth`: levels of splits below the root.
 * - `iterations`: number of trees.
 * - `shrinkage`: learning rate, the factor on every tree's prediction.
 * - `feature_sample_ratio`: fraction of the features searched for each split.
 * - `data_sample_ratio`: fraction of the rows that each tree fits.
 * - `min_leaf_size`: a node with at most this many rows is not split.
 * - `loss`: one of gbdt-rs's loss names.
 * - `training_optimization_level`: 0 to 255, changes only speed and memory.
 *
 * Optional arguments switch to xgboost's regularized second-order trees (exact greedy method):
 * - `reg_lambda` (xgboost `lambda`, default 1, at least 0): L2 penalty on leaf weights.
 * - `min_child_weight` (default 1, at least 0): minimum hessian sum in each child of a split.
 * - `min_split_loss` (xgboost `gamma`, default 0, at least 0): splits whose loss change
 *   G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) is below it are pruned.
 * - `base_score` (default 0.5): initial prediction, a probability in (0, 1) for logistic losses.
 *
 * Without any of them training follows gbdt-rs and reproduces Teaclave's models byte for byte.
 * With them, the loss must be SquaredError or reg:linear (squared error), LogLikelyhood (labels
 * −1 and 1) or binary:logistic, reg:logistic or binary:logitraw (labels in [0, 1]). The model
 * keeps gbdt-rs's format, so `builtin-gbdt-predict` and Teaclave read it unchanged.
 */
export const gbdtTrain: BuiltinFunction = {
  name: "builtin-gbdt-train",
  async run(args, runtime) {
    const config = readGbdtTrainConfig(args);
    const regularization = readRegularization(args, requireString(args, "loss"));
    const rows = parseNumericRows(await readTextInput(runtime, "training_data"), {
      slot: "training_data",
      columns: config.featureSize + 1,
      columnsDescription: `${config.featureSize} features and a label`,
      float32: true,
    });
    const samples = rows.map((row) => ({ features: row.slice(0, -1), label: row.at(-1)! }));
    const model =
      regularization === undefined
        ? trainGbdt(config, samples)
        : trainRegularizedGbdt(config, regularization, samples).model;
    await writeOutput(runtime, "trained_model", serializeGbdt(model));
    return `Trained ${rows.length} lines of data.`;
  },
};
