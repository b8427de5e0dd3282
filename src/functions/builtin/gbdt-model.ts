import { CloisterError } from "../../common/errors.ts";
import { formatJsonF32, formatJsonF64 } from "./rust-format.ts";

/**
 * The gbdt-rs (mesalock-linux/gbdt-rs) model that Teaclave's GBDT built-ins exchange as JSON.
 * Field order and number formats follow serde_json's output of gbdt-rs's structs, so a model
 * written here is byte-identical to one written by Teaclave for the same trees.
 */

/** gbdt-rs's missing-value marker, `f32::MIN`. */
export const unknownFeatureValue = -3.4028234663852886e38;

/** Loss names accepted by gbdt-rs's `Config::set_loss`, mapped to their serialized variant. */
export const lossVariants = {
  SquaredError: "SquaredError",
  LogLikelyhood: "LogLikelyhood",
  LAD: "LAD",
  "reg:linear": "RegLinear",
  "reg:logistic": "RegLogistic",
  "binary:logistic": "BinaryLogistic",
  "binary:logitraw": "BinaryLogitraw",
  "multi:softprob": "MultiSoftprob",
  "multi:softmax": "MultiSoftmax",
  "rank:pairwise": "RankPairwise",
} as const;

export type LossVariant = (typeof lossVariants)[keyof typeof lossVariants];

/** gbdt-rs `Config`. Float fields marked f32 hold `Math.fround` values. */
export interface GbdtConfig {
  readonly featureSize: number;
  readonly maxDepth: number;
  readonly iterations: number;
  /** f32. */
  readonly shrinkage: number;
  readonly featureSampleRatio: number;
  readonly dataSampleRatio: number;
  readonly minLeafSize: number;
  readonly loss: LossVariant;
  readonly debug: boolean;
  readonly initialGuessEnabled: boolean;
  readonly trainingOptimizationLevel: number;
}

/** One node of a decision tree; `left` and `right` index the tree's node array. */
export interface GbdtNode {
  readonly featureIndex: number;
  /** f32 split threshold: a sample goes left when its feature is below it. */
  readonly featureValue: number;
  /** f32 prediction of the node, also kept on internal nodes. */
  readonly pred: number;
  /** Missing-value rule: -1 goes left, 0 returns `pred`, 1 goes right. */
  readonly missing: number;
  readonly isLeaf: boolean;
  readonly left: number;
  readonly right: number;
}

export interface GbdtModel {
  readonly config: GbdtConfig;
  readonly trees: readonly (readonly GbdtNode[])[];
  /** f32 starting value of every prediction. */
  readonly bias: number;
}

/** Walks one tree for one sample and returns the leaf's (or missing-value node's) prediction. */
export function predictTree(nodes: readonly GbdtNode[], features: readonly number[]): number {
  let node = nodes[0]!;
  for (let steps = 0; steps <= nodes.length; steps++) {
    if (node.isLeaf) return node.pred;
    const value = features[node.featureIndex]!;
    let next: number;
    if (value === unknownFeatureValue) {
      if (node.missing === 0) return node.pred;
      next = node.missing === -1 ? node.left : node.right;
    } else {
      next = value < node.featureValue ? node.left : node.right;
    }
    node = nodes[next]!;
  }
  throw new CloisterError("INVALID_ARGUMENT", "the GBDT model contains a cycle");
}

/**
 * Predicts one sample of f32 features in f32 arithmetic, as gbdt-rs's `GBDT::predict` does:
 * start at the bias (or 0 with initial guesses enabled), add `shrinkage × tree prediction`
 * for every tree, then apply the loss's link function.
 */
export function predictGbdt(model: GbdtModel, features: readonly number[]): number {
  const { config } = model;
  let sum = config.initialGuessEnabled ? 0 : model.bias;
  for (const tree of model.trees) {
    sum = Math.fround(sum + Math.fround(config.shrinkage * predictTree(tree, features)));
  }
  switch (config.loss) {
    case "LogLikelyhood":
      return Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(Math.fround(-2 * sum)))));
    case "BinaryLogistic":
    case "RegLogistic":
      return Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-sum))));
    default:
      return sum;
  }
}

function formatNode(node: GbdtNode, index: number): string {
  return (
    `{"value":{"feature_index":${node.featureIndex},` +
    `"feature_value":${formatJsonF32(node.featureValue)},"pred":${formatJsonF32(node.pred)},` +
    `"missing":${node.missing},"is_leaf":${node.isLeaf}},` +
    `"index":${index},"left":${node.left},"right":${node.right}}`
  );
}

/** Serializes a model exactly as `serde_json::to_string(&GBDT)` does in gbdt-rs. */
export function serializeGbdt(model: GbdtModel): string {
  const config = model.config;
  const conf =
    `{"feature_size":${config.featureSize},"max_depth":${config.maxDepth},` +
    `"iterations":${config.iterations},"shrinkage":${formatJsonF32(config.shrinkage)},` +
    `"feature_sample_ratio":${formatJsonF64(config.featureSampleRatio)},` +
    `"data_sample_ratio":${formatJsonF64(config.dataSampleRatio)},` +
    `"min_leaf_size":${config.minLeafSize},"loss":"${config.loss}","debug":${config.debug},` +
    `"initial_guess_enabled":${config.initialGuessEnabled},` +
    `"training_optimization_level":${config.trainingOptimizationLevel}}`;
  const trees = model.trees.map(
    (nodes) =>
      `{"tree":{"tree":[${nodes.map(formatNode).join(",")}]},` +
      `"feature_size":${config.featureSize},"max_depth":${config.maxDepth},` +
      `"min_leaf_size":${config.minLeafSize},"loss":"${config.loss}",` +
      `"feature_sample_ratio":${formatJsonF64(config.featureSampleRatio)}}`,
  );
  return `{"conf":${conf},"trees":[${trees.join(",")}],"bias":${formatJsonF32(model.bias)}}`;
}
