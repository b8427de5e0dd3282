import { CloisterError } from "../../common/errors.ts";
import type { GbdtConfig, GbdtModel, GbdtNode } from "./gbdt-model.ts";
import { lossVariants, predictTree, unknownFeatureValue } from "./gbdt-model.ts";
import type { TrainingSample } from "./gbdt-trainer.ts";

/**
 * Trains second-order regularized trees as xgboost 1.7's exact greedy method
 * (`tree_method="exact"`, updaters `grow_colmaker,prune`) grows them, and writes them in the
 * gbdt-rs model format so that `builtin-gbdt-predict` and Teaclave read the result unchanged.
 * bench/ml.bench.ts compares the predictions with xgboost 1.7.4's.
 *
 * Each tree fits the loss's gradients g and hessians h. A split's loss change is
 * G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), without the ½ of xgboost's documentation, because
 * xgboost's code compares that sum with `min_split_loss` (γ). A leaf's weight is −G/(H+λ), and a
 * child whose hessian sum is below `min_child_weight` is not allowed. Gradients, leaf weights,
 * thresholds and margins are f32 and gradient sums f64, as in xgboost.
 *
 * NOTE: gbdt-rs's `min_leaf_size` still applies (a node with at most that many rows stays a
 * leaf), which xgboost lacks. Its usual value 1 changes nothing, as one row gives no threshold.
 */

const f32 = Math.fround;

/** xgboost's `kRtEps`: a split must change the loss by more than this. */
const minLossChange = 1e-6;

/** The regularization arguments of `builtin-gbdt-train`, as f32 values. */
export interface RegularizationConfig {
  /** L2 penalty λ on leaf weights (xgboost `reg_lambda`). */
  readonly regLambda: number;
  /** Minimum hessian sum in each child of a split (xgboost `min_child_weight`). */
  readonly minChildWeight: number;
  /** Minimum loss change γ that keeps a split after pruning (xgboost `min_split_loss`). */
  readonly minSplitLoss: number;
  /** Initial prediction for every row: a probability for logistic losses (xgboost `base_score`). */
  readonly baseScore: number;
}

/** Losses with a second-order gradient, by gbdt-rs loss variant. */
const objectives = {
  SquaredError: "squared",
  RegLinear: "squared",
  LogLikelyhood: "logistic",
  BinaryLogistic: "logistic",
  RegLogistic: "logistic",
  BinaryLogitraw: "logistic",
} as const;

export type RegularizedLoss = keyof typeof objectives;

export function isRegularizedLoss(loss: string): loss is RegularizedLoss {
  return Object.hasOwn(objectives, loss);
}

/** Returns whether `loss` is logistic, which makes `base_score` a probability. */
export function isLogisticLoss(loss: RegularizedLoss): boolean {
  return objectives[loss] === "logistic";
}

/** A trained model and the margin that training computed for every training row. */
export interface RegularizedTraining {
  readonly model: GbdtModel;
  /**
   * f32 margin of each training row after the last tree, in xgboost's units: the raw score
   * before the sigmoid for logistic losses. gbdt-rs's LogLikelyhood model stores half of it.
   */
  readonly margins: Float64Array;
}

/**
 * Returns the factor from xgboost's margin to the sum that gbdt-rs's `predict` builds.
 * LogLikelyhood's link is 1/(1 + e^(−2·sum)), so its trees store half weights, exact in f32.
 */
function marginScale(loss: RegularizedLoss): number {
  return loss === "LogLikelyhood" ? 0.5 : 1;
}

/** Maps a label to xgboost's target, rejecting labels outside the loss's range. */
function readTargets(loss: RegularizedLoss, samples: readonly TrainingSample[]): Float64Array {
  const targets = new Float64Array(samples.length);
  const logistic = objectives[loss] === "logistic";
  for (const [index, sample] of samples.entries()) {
    const label = sample.label;
    if (!logistic) {
      targets[index] = label;
      continue;
    }
    // LogLikelyhood labels are −1 and 1, as gbdt-rs and Teaclave's examples use them.
    const [low, high] = loss === "LogLikelyhood" ? [-1, 1] : [0, 1];
    if (!(label >= low && label <= high)) {
      const lossName = Object.keys(lossVariants).find(
        (name) => lossVariants[name as keyof typeof lossVariants] === loss,
      );
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `input "training_data" line ${index + 1}: label ${label} is outside [${low}, ${high}], ` +
          `the label range of loss ${lossName}`,
      );
    }
    targets[index] = loss === "LogLikelyhood" ? f32(f32(label + 1) / 2) : label;
  }
  return targets;
}

/** Converts `base_score` to a margin, as xgboost's `ProbToMargin`. */
function baseMargin(loss: RegularizedLoss, baseScore: number): number {
  if (objectives[loss] === "squared") return baseScore;
  return f32(-f32(Math.log(f32(f32(1 / baseScore) - 1))));
}

/** xgboost's f32 `Sigmoid`. */
function sigmoid(margin: number): number {
  return f32(1 / f32(1 + f32(Math.exp(-margin))));
}

/** Fills g and h for every row from the current margins, as xgboost's objectives do. */
function computeGradients(
  loss: RegularizedLoss,
  margins: Float64Array,
  targets: Float64Array,
  gradients: Float64Array,
  hessians: Float64Array,
): void {
  const minHessian = f32(1e-16);
  for (let row = 0; row < margins.length; row++) {
    if (objectives[loss] === "squared") {
      gradients[row] = f32(margins[row]! - targets[row]!);
      hessians[row] = 1;
    } else {
      const p = sigmoid(margins[row]!);
      gradients[row] = f32(p - targets[row]!);
      hessians[row] = Math.max(f32(p * f32(1 - p)), minHessian);
    }
  }
}

/** Feature columns and their pre-sorted row order, shared by every tree. */
interface FeatureColumns {
  /** f32 value by feature, then row. */
  readonly values: readonly Float64Array[];
  /** Rows with a present (not missing) value, in ascending value order, per feature. */
  readonly sortedRows: readonly Int32Array[];
  /** Whether xgboost would search the feature with missing values sent right. */
  readonly forwardSearch: readonly boolean[];
}

function sortColumns(featureSize: number, samples: readonly TrainingSample[]): FeatureColumns {
  const values: Float64Array[] = [];
  const sortedRows: Int32Array[] = [];
  const forwardSearch: boolean[] = [];
  for (let feature = 0; feature < featureSize; feature++) {
    const column = Float64Array.from(samples, (sample) => sample.features[feature]!);
    const present: number[] = [];
    for (let row = 0; row < column.length; row++) {
      if (column[row] !== unknownFeatureValue) present.push(row);
    }
    present.sort((a, b) => column[a]! - column[b]!);
    values.push(column);
    sortedRows.push(Int32Array.from(present));
    // xgboost searches both directions only in a column with missing values whose present
    // values differ. Dense columns send missing values left.
    const constant =
      present.length > 0 && column[present[0]!] === column[present[present.length - 1]!];
    forwardSearch.push(present.length < column.length && !constant);
  }
  return { values, sortedRows, forwardSearch };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The best split found so far for one node, as xgboost's `SplitEntry`. */
interface SplitCandidate {
  lossChange: number;
  featureIndex: number;
  threshold: number;
  defaultLeft: boolean;
}

/** Grows one tree level by level, as xgboost's `ColMaker`, then prunes it by `min_split_loss`. */
class RegularizedTreeBuilder {
  private readonly featureIndex: number[] = [];
  private readonly threshold: number[] = [];
  private readonly defaultLeft: boolean[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly parent: number[] = [];
  private readonly isLeaf: boolean[] = [];
  /** f32 leaf weight −G/(H+λ), before shrinkage. */
  private readonly weight: number[] = [];
  /** f32 G²/(H+λ) of the node. */
  private readonly rootGain: number[] = [];
  /** f32 loss change of the node's split. */
  private readonly lossChange: number[] = [];
  private readonly sumGradient: number[] = [];
  private readonly sumHessian: number[] = [];
  private readonly rowCount: number[] = [];
  /** Node of each row, or −1 for rows outside this tree's sample. */
  private readonly position: Int32Array;
  private readonly lambda: number;
  private readonly minChildWeight: number;

  constructor(
    private readonly config: GbdtConfig,
    regularization: RegularizationConfig,
    private readonly columns: FeatureColumns,
    private readonly gradients: Float64Array,
    private readonly hessians: Float64Array,
    subset: readonly number[],
  ) {
    this.lambda = regularization.regLambda;
    this.minChildWeight = regularization.minChildWeight;
    this.position = new Int32Array(gradients.length).fill(-1);
    for (const row of subset) this.position[row] = 0;
  }

  /** Grows the tree and returns its nodes in gbdt-rs's pre-order layout. */
  build(minSplitLoss: number, scale: number): GbdtNode[] {
    this.addNode(-1);
    let expand = [0];
    this.computeNodeStats(expand);
    for (let depth = 0; depth < this.config.maxDepth && expand.length > 0; depth++) {
      const splittable = expand.filter((node) => this.rowCount[node]! > this.config.minLeafSize);
      const best = this.findSplits(splittable);
      const next: number[] = [];
      for (const [slot, node] of splittable.entries()) {
        const split = best[slot]!;
        if (split.lossChange > minLossChange) {
          this.applySplit(node, split);
          next.push(this.left[node]!, this.right[node]!);
        }
      }
      this.updatePositions(splittable);
      this.computeNodeStats(next);
      expand = next;
    }
    this.prune(0, minSplitLoss);
    return this.layout(scale);
  }

  /** Unscaled weight of the leaf that a row of the tree's sample reached, else undefined. */
  leafWeightOfRow(row: number): number | undefined {
    let node = this.position[row]!;
    if (node < 0) return undefined;
    // A pruned subtree's rows take the weight of the nearest ancestor that is now a leaf.
    for (let ancestor = node; ancestor >= 0; ancestor = this.parent[ancestor]!) {
      if (this.isLeaf[ancestor]) node = ancestor;
    }
    return this.weight[node]!;
  }

  private addNode(parent: number): number {
    this.featureIndex.push(0);
    this.threshold.push(0);
    this.defaultLeft.push(true);
    this.left.push(0);
    this.right.push(0);
    this.parent.push(parent);
    this.isLeaf.push(true);
    this.weight.push(0);
    this.rootGain.push(0);
    this.lossChange.push(0);
    this.sumGradient.push(0);
    this.sumHessian.push(0);
    this.rowCount.push(0);
    return this.isLeaf.length - 1;
  }

  /** Sums g and h per node in row order, then sets each node's weight and gain. */
  private computeNodeStats(nodes: readonly number[]): void {
    if (nodes.length === 0) return;
    const nodeSet = new Set(nodes);
    for (let row = 0; row < this.position.length; row++) {
      const node = this.position[row]!;
      if (!nodeSet.has(node)) continue;
      this.sumGradient[node]! += this.gradients[row]!;
      this.sumHessian[node]! += this.hessians[row]!;
      this.rowCount[node]! += 1;
    }
    for (const node of nodes) {
      const g = this.sumGradient[node]!;
      const h = this.sumHessian[node]!;
      this.weight[node] = h < this.minChildWeight || h <= 0 ? 0 : f32(-g / (h + this.lambda));
      this.rootGain[node] = this.gain(g, h);
    }
  }

  /** xgboost's `CalcGainGivenWeight` without constraints: G²/(H+λ) as f32. */
  private gain(g: number, h: number): number {
    return h <= 0 ? 0 : f32((g * g) / (h + this.lambda));
  }

  private splitLossChange(
    node: number,
    leftG: number,
    leftH: number,
    rightG: number,
    rightH: number,
  ): number {
    const total = f32(this.gain(leftG, leftH) + this.gain(rightG, rightH));
    return f32(total - this.rootGain[node]!);
  }

  /**
   * Finds the best split of each node, scanning every sorted feature column once for all of
   * them, as xgboost's `EnumerateSplit`. Ties keep the lower feature index, and within a feature
   * the candidate found first.
   */
  private findSplits(nodes: readonly number[]): SplitCandidate[] {
    const { config, columns } = this;
    const best = nodes.map(() => ({
      lossChange: 0,
      featureIndex: 0,
      threshold: 0,
      defaultLeft: true,
    }));
    if (nodes.length === 0) return best;
    const slotOfNode = new Int32Array(this.isLeaf.length).fill(-1);
    for (const [slot, node] of nodes.entries()) slotOfNode[node] = slot;

    // gbdt-rs samples `feature_sample_ratio` of the features for each node's split search.
    let allowed: Uint8Array | undefined;
    if (config.featureSampleRatio < 1) {
      const sampleSize = Math.floor(config.featureSampleRatio * config.featureSize);
      allowed = new Uint8Array(nodes.length * config.featureSize);
      for (let slot = 0; slot < nodes.length; slot++) {
        const features = Array.from({ length: config.featureSize }, (_, index) => index);
        for (const feature of shuffle(features).slice(0, sampleSize)) {
          allowed[slot * config.featureSize + feature] = 1;
        }
      }
    }

    const scanG = new Float64Array(nodes.length);
    const scanH = new Float64Array(nodes.length);
    const scanCount = new Int32Array(nodes.length);
    const lastValue = new Float64Array(nodes.length);
    for (let feature = 0; feature < config.featureSize; feature++) {
      const directions = columns.forwardSearch[feature] ? [1, -1] : [-1];
      for (const direction of directions) {
        scanG.fill(0);
        scanH.fill(0);
        scanCount.fill(0);
        this.scanFeature(feature, direction, nodes, slotOfNode, allowed, best, {
          scanG,
          scanH,
          scanCount,
          lastValue,
        });
      }
    }
    return best;
  }

  /**
   * One pass over a feature's sorted rows: ascending (`direction` 1, missing values go right)
   * or descending (−1, missing values go left). The scanned side's sums are in `scan`.
   */
  private scanFeature(
    feature: number,
    direction: number,
    nodes: readonly number[],
    slotOfNode: Int32Array,
    allowed: Uint8Array | undefined,
    best: SplitCandidate[],
    scan: {
      scanG: Float64Array;
      scanH: Float64Array;
      scanCount: Int32Array;
      lastValue: Float64Array;
    },
  ): void {
    const { scanG, scanH, scanCount, lastValue } = scan;
    const { gradients, hessians, position, minChildWeight } = this;
    const featureSize = this.config.featureSize;
    const rows = this.columns.sortedRows[feature]!;
    const column = this.columns.values[feature]!;
    const backward = direction === -1;
    const isAllowed = (slot: number): boolean =>
      allowed === undefined || allowed[slot * featureSize + feature] === 1;

    for (let step = 0; step < rows.length; step++) {
      const row = rows[backward ? rows.length - 1 - step : step]!;
      const node = position[row]!;
      if (node < 0) continue;
      const slot = slotOfNode[node]!;
      if (slot < 0 || !isAllowed(slot)) continue;
      const value = column[row]!;
      if (scanCount[slot] !== 0 && value !== lastValue[slot] && scanH[slot]! >= minChildWeight) {
        const restG = this.sumGradient[node]! - scanG[slot]!;
        const restH = this.sumHessian[node]! - scanH[slot]!;
        if (restH >= minChildWeight) {
          const lossChange = backward
            ? this.splitLossChange(node, restG, restH, scanG[slot]!, scanH[slot]!)
            : this.splitLossChange(node, scanG[slot]!, scanH[slot]!, restG, restH);
          // xgboost keeps the upper value when the midpoint rounds onto the lower one.
          const midpoint = f32(f32(value + lastValue[slot]!) * 0.5);
          const threshold = midpoint === value ? lastValue[slot]! : midpoint;
          updateBest(best[slot]!, lossChange, feature, threshold, backward);
        }
      }
      scanG[slot]! += gradients[row]!;
      scanH[slot]! += hessians[row]!;
      scanCount[slot]! += 1;
      lastValue[slot] = value;
    }

    // The split that puts every present value on one side and the missing values on the other.
    for (const [slot, node] of nodes.entries()) {
      if (scanCount[slot] === 0 || !isAllowed(slot)) continue;
      const restG = this.sumGradient[node]! - scanG[slot]!;
      const restH = this.sumHessian[node]! - scanH[slot]!;
      if (scanH[slot]! < minChildWeight || restH < minChildWeight) continue;
      const lossChange = backward
        ? this.splitLossChange(node, restG, restH, scanG[slot]!, scanH[slot]!)
        : this.splitLossChange(node, scanG[slot]!, scanH[slot]!, restG, restH);
      const gap = f32(Math.abs(lastValue[slot]!) + minLossChange);
      const threshold = f32(lastValue[slot]! + (backward ? -gap : gap));
      updateBest(best[slot]!, lossChange, feature, threshold, backward);
    }
  }

  private applySplit(node: number, split: SplitCandidate): void {
    this.isLeaf[node] = false;
    this.featureIndex[node] = split.featureIndex;
    this.threshold[node] = split.threshold;
    this.defaultLeft[node] = split.defaultLeft;
    this.lossChange[node] = split.lossChange;
    this.left[node] = this.addNode(node);
    this.right[node] = this.addNode(node);
  }

  /** Moves the rows of the nodes just split into their children. */
  private updatePositions(nodes: readonly number[]): void {
    const split = new Uint8Array(this.isLeaf.length);
    for (const node of nodes) if (!this.isLeaf[node]) split[node] = 1;
    for (let row = 0; row < this.position.length; row++) {
      const node = this.position[row]!;
      if (node < 0 || split[node] === 0) continue;
      const value = this.columns.values[this.featureIndex[node]!]![row]!;
      const goLeft =
        value === unknownFeatureValue ? this.defaultLeft[node]! : value < this.threshold[node]!;
      this.position[row] = goLeft ? this.left[node]! : this.right[node]!;
    }
  }

  /**
   * xgboost's `TreePruner`: turns a split whose children are both leaves into a leaf when its
   * loss change is below `min_split_loss`, from the bottom up. Returns whether `node` is a leaf.
   */
  private prune(node: number, minSplitLoss: number): boolean {
    if (this.isLeaf[node]) return true;
    const leftIsLeaf = this.prune(this.left[node]!, minSplitLoss);
    const rightIsLeaf = this.prune(this.right[node]!, minSplitLoss);
    if (leftIsLeaf && rightIsLeaf && this.lossChange[node]! < minSplitLoss) {
      this.isLeaf[node] = true;
    }
    return this.isLeaf[node]!;
  }

  /** Writes the reachable nodes in pre-order, as gbdt-rs numbers them. */
  private layout(scale: number): GbdtNode[] {
    const output: GbdtNode[] = [];
    const visit = (node: number): number => {
      const index = output.length;
      const leaf = this.isLeaf[node]!;
      // gbdt-rs's missing-value rule: -1 sends the row left, 1 right, 0 stops at a leaf.
      let missing = 0;
      if (!leaf) missing = this.defaultLeft[node] ? -1 : 1;
      output.push({
        featureIndex: leaf ? 0 : this.featureIndex[node]!,
        featureValue: leaf ? 0 : this.threshold[node]!,
        pred: this.weight[node]! * scale,
        missing,
        isLeaf: leaf,
        left: 0,
        right: 0,
      });
      if (!leaf) {
        const left = visit(this.left[node]!);
        const right = visit(this.right[node]!);
        output[index] = { ...output[index]!, left, right };
      }
      return index;
    };
    visit(0);
    return output;
  }
}

/** Updates `best` as xgboost's `SplitEntry::Update`: a tie keeps the lower feature index. */
function updateBest(
  best: SplitCandidate,
  lossChange: number,
  featureIndex: number,
  threshold: number,
  defaultLeft: boolean,
): void {
  if (!Number.isFinite(lossChange)) return;
  const replace =
    best.featureIndex <= featureIndex
      ? lossChange > best.lossChange
      : !(best.lossChange > lossChange);
  if (!replace) return;
  best.lossChange = lossChange;
  best.featureIndex = featureIndex;
  best.threshold = threshold;
  best.defaultLeft = defaultLeft;
}

/**
 * Trains a model with xgboost's regularized second-order algorithm. `config.shrinkage` is
 * xgboost's `eta`, and `data_sample_ratio` and `feature_sample_ratio` sample rows per tree and
 * features per node as in gbdt-rs.
 */
export function trainRegularizedGbdt(
  config: GbdtConfig,
  regularization: RegularizationConfig,
  samples: readonly TrainingSample[],
): RegularizedTraining {
  const loss = config.loss;
  if (!isRegularizedLoss(loss)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `regularized training needs a loss with a second-order gradient, got ${loss}`,
    );
  }
  const count = samples.length;
  const scale = marginScale(loss);
  const targets = readTargets(loss, samples);
  const start = baseMargin(loss, regularization.baseScore);
  const columns = sortColumns(config.featureSize, samples);
  const margins = new Float64Array(count).fill(start);
  const gradients = new Float64Array(count);
  const hessians = new Float64Array(count);
  const sampleCount =
    config.dataSampleRatio < 1 ? Math.floor(count * config.dataSampleRatio) : count;
  const trees: GbdtNode[][] = [];

  for (let iteration = 0; iteration < config.iterations; iteration++) {
    computeGradients(loss, margins, targets, gradients, hessians);
    let subset = Array.from({ length: count }, (_, index) => index);
    if (sampleCount < count) subset = shuffle(subset).slice(0, sampleCount);

    const builder = new RegularizedTreeBuilder(
      config,
      regularization,
      columns,
      gradients,
      hessians,
      subset,
    );
    const tree = builder.build(regularization.minSplitLoss, scale);
    trees.push(tree);
    for (let row = 0; row < count; row++) {
      // Rows outside the tree's sample walk the written tree, whose weights are scaled.
      const weight =
        builder.leafWeightOfRow(row) ?? predictTree(tree, samples[row]!.features) / scale;
      margins[row] = f32(margins[row]! + f32(config.shrinkage * weight));
    }
  }
  // The model's sums are in gbdt-rs units, so LogLikelyhood margins are halved on the way out.
  return { model: { config, trees, bias: f32(start * scale) }, margins };
}
