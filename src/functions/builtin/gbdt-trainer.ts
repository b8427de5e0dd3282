import type { GbdtConfig, GbdtModel, GbdtNode } from "./gbdt-model.ts";
import { predictTree, unknownFeatureValue } from "./gbdt-model.ts";

/**
 * A port of gbdt-rs's trainer (mesalock-linux/gbdt-rs, `GBDT::fit` and `DecisionTree::fit_n`)
 * with the same f32 and f64 arithmetic, so that it grows the same trees as Teaclave.
 * Sample weights are all 1, as in Teaclave's `builtin-gbdt-train`.
 */

/** One training row: f32 features and an f32 label. */
export interface TrainingSample {
  readonly features: readonly number[];
  readonly label: number;
}

const f32 = Math.fround;

/** gbdt-rs `almost_equal`: the f32 difference is below 1e-5. */
function almostEqual(a: number, b: number): boolean {
  return Math.abs(f32(a - b)) < 1e-5;
}

/** Per-iteration state that gbdt-rs keeps in `Data` and `TrainingCache`. */
interface IterationState {
  /** f32 target that the tree fits. */
  readonly target: Float64Array;
  /** f32 residual, used by LAD leaves. */
  readonly residual: Float64Array;
  /** target × weight and target² × weight, in f64. */
  readonly s: Float64Array;
  readonly ss: Float64Array;
  /** f32 `y(2 − y)` of LogLikelyhood leaves, with y = |target|. */
  readonly logitC: Float32Array;
  /** Sample indices ordered by residual (LAD only). */
  readonly byResidual: readonly number[];
  /** The tree's prediction for each trained sample, kept across iterations as in gbdt-rs. */
  readonly preds: Float64Array;
}

/** Stable sort of sample indices by one f32 key. */
function sortIndices(count: number, key: (index: number) => number): number[] {
  return Array.from({ length: count }, (_, index) => index).sort((a, b) => key(a) - key(b));
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** gbdt-rs `weighted_label_median` with unit weights, including its `i - 1 > 0` quirk. */
function labelMedian(samples: readonly TrainingSample[]): number {
  const labels = samples.map((sample) => sample.label).sort((a, b) => a - b);
  let weight = 0;
  for (let i = 0; i < labels.length; i++) {
    weight = f32(weight + 1);
    if (f32(weight * 2) > labels.length) {
      return i >= 2 ? f32(f32(labels[i]! + labels[i - 1]!) / 2) : labels[i]!;
    }
  }
  return 0;
}

function labelAverage(samples: readonly TrainingSample[]): number {
  let sum = 0;
  let weight = 0;
  for (const sample of samples) {
    sum = f32(sum + sample.label);
    weight = f32(weight + 1);
  }
  return f32(sum / weight);
}

/** Grows one tree over `subset`, as gbdt-rs's `DecisionTree::fit_n`. */
class TreeBuilder {
  readonly nodes: {
    featureIndex: number;
    featureValue: number;
    pred: number;
    isLeaf: boolean;
    left: number;
    right: number;
  }[] = [];

  /**
   * @param columns Feature values by feature, then sample: `columns[feature][sample]`.
   * @param byFeature Sample indices sorted by each feature's value.
   */
  constructor(
    private readonly config: GbdtConfig,
    private readonly columns: readonly Float64Array[],
    private readonly byFeature: readonly (readonly number[])[],
    private readonly state: IterationState,
  ) {}

  build(subset: readonly number[]): GbdtNode[] {
    this.fitNode(this.addNode(), 0, subset);
    return this.nodes.map((node) => ({ ...node, missing: 0 }));
  }

  private addNode(): number {
    this.nodes.push({
      featureIndex: 0,
      featureValue: 0,
      pred: 0,
      isLeaf: false,
      left: 0,
      right: 0,
    });
    return this.nodes.length - 1;
  }

  private fitNode(nodeIndex: number, depth: number, data: readonly number[]): void {
    const node = this.nodes[nodeIndex]!;
    node.pred = this.leafValue(data);
    if (
      depth >= this.config.maxDepth ||
      this.sameTarget(data) ||
      data.length <= this.config.minLeafSize
    ) {
      this.makeLeaf(nodeIndex, data);
      return;
    }
    const split = this.findSplit(data);
    if (split === undefined) {
      this.makeLeaf(nodeIndex, data);
      return;
    }
    node.featureIndex = split.featureIndex;
    node.featureValue = split.featureValue;
    // Samples with a missing value reach neither child, as in gbdt-rs.
    node.left = this.addNode();
    this.fitNode(node.left, depth + 1, split.left);
    node.right = this.addNode();
    this.fitNode(node.right, depth + 1, split.right);
  }

  private makeLeaf(nodeIndex: number, data: readonly number[]): void {
    const node = this.nodes[nodeIndex]!;
    node.isLeaf = true;
    for (const index of data) this.state.preds[index] = node.pred;
  }

  private sameTarget(data: readonly number[]): boolean {
    if (data.length === 0) return false;
    const first = this.state.target[data[0]!]!;
    return data.every((index) => almostEqual(first, this.state.target[index]!));
  }

  /** gbdt-rs `calculate_pred`: the leaf value that minimises the loss over `data`. */
  private leafValue(data: readonly number[]): number {
    const { state } = this;
    if (this.config.loss === "LAD") {
      const members = new Set(data);
      const sorted = state.byResidual.filter((index) => members.has(index));
      let weight = 0;
      for (let i = 0; i < sorted.length; i++) {
        weight += 1;
        if (weight * 2 > sorted.length) {
          const value = state.residual[sorted[i]!]!;
          return i >= 1 ? f32(f32(value + state.residual[sorted[i - 1]!]!) / 2) : value;
        }
      }
      return 0;
    }
    let sum = 0;
    let weight = 0;
    for (const index of data) {
      sum += state.s[index]!;
      weight += this.config.loss === "LogLikelyhood" ? state.logitC[index]! : 1;
    }
    return Math.abs(weight) < 1e-10 ? 0 : f32(sum / weight);
  }

  /** gbdt-rs `DecisionTree::split`: the feature and threshold of least squared-error impurity. */
  private findSplit(
    data: readonly number[],
  ): { featureIndex: number; featureValue: number; left: number[]; right: number[] } | undefined {
    const { config, state } = this;
    let features = Array.from({ length: config.featureSize }, (_, index) => index);
    if (config.featureSampleRatio < 1) {
      features = shuffle(features).slice(
        0,
        Math.floor(config.featureSampleRatio * config.featureSize),
      );
    }
    let totalS = 0;
    let totalSs = 0;
    let totalC = 0;
    for (const index of data) {
      totalS += state.s[index]!;
      totalSs += state.ss[index]!;
      totalC += 1;
    }
    const members = new Uint8Array(state.target.length);
    for (const index of data) members[index] = 1;

    let bestImpurity = Number.MAX_VALUE;
    let best: { featureIndex: number; featureValue: number; sorted: number[] } | undefined;
    for (const featureIndex of features) {
      const sorted = this.byFeature[featureIndex]!.filter((index) => members[index] === 1);
      const column = this.columns[featureIndex]!;
      let impurity = Number.MAX_VALUE;
      let threshold = unknownFeatureValue;

      let unknown = 0;
      let s = 0;
      let ss = 0;
      let c = 0;
      while (unknown < sorted.length && column[sorted[unknown]!] === unknownFeatureValue) {
        s += state.s[sorted[unknown]!]!;
        ss += state.ss[sorted[unknown]!]!;
        c += 1;
        unknown++;
      }
      if (unknown < sorted.length) {
        const fitnessUnknown = Math.max(c > 1 ? ss - (s * s) / c : 0, 0);
        let ls = 0;
        let lss = 0;
        let lc = 0;
        let rs = totalS - s;
        let rss = totalSs - ss;
        let rc = totalC - c;
        for (let i = unknown; i < sorted.length - 1; i++) {
          const index = sorted[i]!;
          ls += state.s[index]!;
          lss += state.ss[index]!;
          lc += 1;
          rs -= state.s[index]!;
          rss -= state.ss[index]!;
          rc -= 1;
          const current = column[index]!;
          const next = column[sorted[i + 1]!]!;
          if (almostEqual(current, next)) continue;
          const fitnessLeft = Math.max(lc > 1 ? lss - (ls * ls) / lc : 0, 0);
          const fitnessRight = Math.max(rc > 1 ? rss - (rs * rs) / rc : 0, 0);
          const fitness = fitnessUnknown + fitnessLeft + fitnessRight;
          if (impurity > fitness) {
            impurity = fitness;
            threshold = f32(f32(current + next) / 2);
          }
        }
      }
      if (bestImpurity > impurity) {
        bestImpurity = impurity;
        best = { featureIndex, featureValue: threshold, sorted };
      }
    }
    if (best === undefined) return undefined;

    const left: number[] = [];
    const right: number[] = [];
    let unknownCount = 0;
    for (const index of best.sorted) {
      const value = this.columns[best.featureIndex]![index]!;
      if (value === unknownFeatureValue) unknownCount++;
      else if (value < best.featureValue) left.push(index);
      else right.push(index);
    }
    const emptyGroups = [left.length, right.length, unknownCount].filter((n) => n === 0).length;
    if (emptyGroups >= 2) return undefined;
    return { featureIndex: best.featureIndex, featureValue: best.featureValue, left, right };
  }
}

/** Trains a gbdt-rs model on f32 samples, as `GBDT::fit` does. */
export function trainGbdt(config: GbdtConfig, samples: readonly TrainingSample[]): GbdtModel {
  const count = samples.length;
  let bias = 0;
  if (!config.initialGuessEnabled) {
    if (config.loss === "LAD") bias = labelMedian(samples);
    else if (config.loss === "LogLikelyhood") {
      const average = labelAverage(samples);
      bias = f32(f32(Math.log(f32(f32(1 + average) / f32(1 - average)))) / 2);
    } else bias = labelAverage(samples);
  }

  const columns = Array.from({ length: config.featureSize }, (_, featureIndex) =>
    Float64Array.from(samples, (sample) => sample.features[featureIndex]!),
  );
  const byFeature = columns.map((column) => sortIndices(count, (index) => column[index]!));
  const sampleCount =
    config.dataSampleRatio < 1 ? Math.floor(count * config.dataSampleRatio) : count;
  const predicted = new Float64Array(count).fill(bias);
  const preds = new Float64Array(count).fill(unknownFeatureValue);
  const trees: GbdtNode[][] = [];

  for (let iteration = 0; iteration < config.iterations; iteration++) {
    let subset = Array.from({ length: count }, (_, index) => index);
    let remaining: number[] = [];
    if (sampleCount < count) {
      shuffle(subset);
      remaining = subset.slice(sampleCount).sort((a, b) => a - b);
      subset = subset.slice(0, sampleCount).sort((a, b) => a - b);
    }

    const target = new Float64Array(count);
    const residual = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const label = samples[i]!.label;
      if (config.loss === "LAD") {
        residual[i] = f32(label - predicted[i]!);
        target[i] = residual[i]! >= 0 ? 1 : -1;
      } else if (config.loss === "LogLikelyhood") {
        const exponent = f32(Math.exp(f32(f32(2 * label) * predicted[i]!)));
        target[i] = f32(f32(2 * label) / f32(1 + exponent));
      } else {
        target[i] = f32(label - predicted[i]!);
      }
    }
    const s = Float64Array.from(target);
    const ss = target.map((value, i) => value * s[i]!);
    const logitC = Float32Array.from(target, (value) => Math.abs(value) * (2 - Math.abs(value)));
    const byResidual = config.loss === "LAD" ? sortIndices(count, (index) => residual[index]!) : [];
    const state: IterationState = { target, residual, s, ss, logitC, byResidual, preds };

    const tree = new TreeBuilder(config, columns, byFeature, state).build(subset);
    trees.push(tree);
    for (const index of subset) {
      predicted[index] = f32(predicted[index]! + f32(preds[index]! * config.shrinkage));
    }
    for (const index of remaining) {
      const treeValue = predictTree(tree, samples[index]!.features);
      predicted[index] = f32(predicted[index]! + f32(treeValue * config.shrinkage));
    }
  }
  return { config, trees, bias };
}
