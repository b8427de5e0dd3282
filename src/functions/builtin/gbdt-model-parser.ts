import { CloisterError } from "../../common/errors.ts";
import type { GbdtConfig, GbdtModel, GbdtNode, LossVariant } from "./gbdt-model.ts";
import { lossVariants } from "./gbdt-model.ts";

type JsonObject = Record<string, unknown>;

const variants = new Set<string>(Object.values(lossVariants));

/** Reads and checks a gbdt-rs model, as written by `builtin-gbdt-train` or by Teaclave. */
export function parseGbdtModel(text: string, slot: string): GbdtModel {
  const invalid = (problem: string): CloisterError =>
    new CloisterError("INVALID_ARGUMENT", `input "${slot}" is not a gbdt-rs model: ${problem}`);

  const objectAt = (value: unknown, path: string): JsonObject => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid(`${path} must be an object`);
    }
    return value as JsonObject;
  };
  const arrayAt = (value: unknown, path: string): unknown[] => {
    if (!Array.isArray(value)) throw invalid(`${path} must be an array`);
    return value;
  };
  const numberAt = (object: JsonObject, key: string, path: string): number => {
    const value = object[key];
    if (typeof value !== "number") throw invalid(`${path}.${key} must be a number`);
    return value;
  };
  const integerAt = (object: JsonObject, key: string, path: string): number => {
    const value = numberAt(object, key, path);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw invalid(`${path}.${key} must be a non-negative integer`);
    }
    return value;
  };
  const booleanAt = (object: JsonObject, key: string, path: string): boolean => {
    const value = object[key];
    if (typeof value !== "boolean") throw invalid(`${path}.${key} must be true or false`);
    return value;
  };

  let root: JsonObject;
  try {
    root = objectAt(JSON.parse(text), "the model");
  } catch (error) {
    if (CloisterError.is(error)) throw error;
    throw invalid("it is not valid JSON");
  }

  const conf = objectAt(root.conf, "conf");
  const loss = conf.loss;
  if (typeof loss !== "string" || !variants.has(loss)) {
    throw invalid(`conf.loss must be one of ${[...variants].join(", ")}`);
  }
  const config: GbdtConfig = {
    featureSize: integerAt(conf, "feature_size", "conf"),
    maxDepth: integerAt(conf, "max_depth", "conf"),
    iterations: integerAt(conf, "iterations", "conf"),
    shrinkage: Math.fround(numberAt(conf, "shrinkage", "conf")),
    featureSampleRatio: numberAt(conf, "feature_sample_ratio", "conf"),
    dataSampleRatio: numberAt(conf, "data_sample_ratio", "conf"),
    minLeafSize: integerAt(conf, "min_leaf_size", "conf"),
    loss: loss as LossVariant,
    debug: booleanAt(conf, "debug", "conf"),
    initialGuessEnabled: booleanAt(conf, "initial_guess_enabled", "conf"),
    trainingOptimizationLevel: integerAt(conf, "training_optimization_level", "conf"),
  };

  const trees = arrayAt(root.trees, "trees").map((entry, treeIndex) => {
    const path = `trees[${treeIndex}].tree.tree`;
    const rawNodes = arrayAt(
      objectAt(objectAt(entry, `trees[${treeIndex}]`).tree, path).tree,
      path,
    );
    if (rawNodes.length === 0) throw invalid(`${path} has no nodes`);
    return rawNodes.map((rawNode, nodeIndex): GbdtNode => {
      const nodePath = `${path}[${nodeIndex}]`;
      const node = objectAt(rawNode, nodePath);
      const value = objectAt(node.value, `${nodePath}.value`);
      const parsed: GbdtNode = {
        featureIndex: integerAt(value, "feature_index", `${nodePath}.value`),
        featureValue: Math.fround(numberAt(value, "feature_value", `${nodePath}.value`)),
        pred: Math.fround(numberAt(value, "pred", `${nodePath}.value`)),
        missing: numberAt(value, "missing", `${nodePath}.value`),
        isLeaf: booleanAt(value, "is_leaf", `${nodePath}.value`),
        left: integerAt(node, "left", nodePath),
        right: integerAt(node, "right", nodePath),
      };
      if (!parsed.isLeaf) {
        if (parsed.left >= rawNodes.length || parsed.right >= rawNodes.length) {
          throw invalid(`${nodePath} points to a child outside the tree`);
        }
        if (parsed.featureIndex >= config.featureSize) {
          throw invalid(
            `${nodePath} splits on feature ${parsed.featureIndex}, beyond conf.feature_size`,
          );
        }
      }
      return parsed;
    });
  });
  if (trees.length !== config.iterations) {
    throw invalid(`it has ${trees.length} trees but conf.iterations is ${config.iterations}`);
  }
  return { config, trees, bias: Math.fround(numberAt(root, "bias", "the model")) };
}
