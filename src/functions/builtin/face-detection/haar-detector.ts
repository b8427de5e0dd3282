import type { HaarCascade } from "./haar-cascade.ts";
import type { GrayImage } from "./decode-image.ts";

/** Options of one detection run; sizes and steps are in pixels of the original image. */
export interface DetectionOptions {
  readonly minFaceSize: number;
  readonly maxFaceSize: number;
  /** Ratio between the face sizes of adjacent pyramid levels, in (0, 1). */
  readonly pyramidScaleFactor: number;
  /** Window step as a fraction of the window size, horizontally and vertically. */
  readonly stepFractionX: number;
  readonly stepFractionY: number;
  /** Minimum number of overlapping raw detections that make a face. */
  readonly minNeighbors: number;
}

export interface Detection {
  readonly x: number;
  readonly y: number;
  readonly size: number;
  /** Number of raw window detections merged into this face. */
  readonly neighbors: number;
}

interface IntegralImages {
  readonly stride: number;
  readonly sum: Int32Array;
  readonly squareSum: Float64Array;
}

/** Builds (w+1)×(h+1) integral images of the pixels and of their squares. */
function integrate(image: GrayImage): IntegralImages {
  const stride = image.width + 1;
  // 255 × 40 megapixels still fits in an int32; the squares need doubles.
  const sum = new Int32Array(stride * (image.height + 1));
  const squareSum = new Float64Array(stride * (image.height + 1));
  for (let y = 0; y < image.height; y++) {
    let rowSum = 0;
    let rowSquareSum = 0;
    for (let x = 0; x < image.width; x++) {
      const value = image.pixels[y * image.width + x]!;
      rowSum += value;
      rowSquareSum += value * value;
      const index = (y + 1) * stride + x + 1;
      sum[index] = sum[index - stride]! + rowSum;
      squareSum[index] = squareSum[index - stride]! + rowSquareSum;
    }
  }
  return { stride, sum, squareSum };
}

/**
 * A cascade scaled to one window size and flattened into typed arrays for speed. Rectangles
 * become integral-image offsets, and thresholds are pre-multiplied by the window area.
 */
interface ScaledCascade {
  /** [first tree, end tree, threshold] per stage. */
  readonly stages: Float64Array;
  /** [first rectangle, end rectangle, threshold × area, left value, right value] per tree. */
  readonly trees: Float64Array;
  /** [offset, width, height × stride, weight] per rectangle. */
  readonly rectangles: Float64Array;
}

/**
 * Scales a cascade to one window size. Like OpenCV, it recomputes the weight of each
 * feature's first rectangle so that the feature stays zero-sum after the rectangles were
 * rounded to whole pixels.
 */
function scaleCascade(
  cascade: HaarCascade,
  scale: number,
  stride: number,
  area: number,
): ScaledCascade {
  const stages: number[] = [];
  const trees: number[] = [];
  const rectangles: number[] = [];
  for (const stage of cascade.stages) {
    stages.push(trees.length / 5, trees.length / 5 + stage.trees.length, stage.threshold);
    for (const tree of stage.trees) {
      const first = rectangles.length / 4;
      const count = tree.rectangles.length / 5;
      const areas: number[] = [];
      for (let r = 0; r < count; r++) {
        const x = Math.round(tree.rectangles[r * 5]! * scale);
        const y = Math.round(tree.rectangles[r * 5 + 1]! * scale);
        const width = Math.round(tree.rectangles[r * 5 + 2]! * scale);
        const height = Math.round(tree.rectangles[r * 5 + 3]! * scale);
        rectangles.push(y * stride + x, width, height * stride, tree.rectangles[r * 5 + 4]!);
        areas.push(width * height);
      }
      if (count > 1 && areas[0]! > 0) {
        let weightedRest = 0;
        for (let r = 1; r < count; r++)
          weightedRest += rectangles[(first + r) * 4 + 3]! * areas[r]!;
        rectangles[first * 4 + 3] = -weightedRest / areas[0]!;
      }
      trees.push(first, first + count, tree.threshold * area, tree.leftValue, tree.rightValue);
    }
  }
  return {
    stages: Float64Array.from(stages),
    trees: Float64Array.from(trees),
    rectangles: Float64Array.from(rectangles),
  };
}

/**
 * Evaluates the scaled cascade on the window whose top-left integral index is `base`.
 * Returns the number of stages that the window passed, which is all of them for a face.
 */
function countPassedStages(
  cascade: ScaledCascade,
  sum: Int32Array,
  base: number,
  area: number,
  deviation: number,
): number {
  const { stages, trees, rectangles } = cascade;
  for (let s = 0; s < stages.length; s += 3) {
    let stageSum = 0;
    for (let t = stages[s]! * 5; t < stages[s + 1]! * 5; t += 5) {
      let featureSum = 0;
      for (let r = trees[t]! * 4; r < trees[t + 1]! * 4; r += 4) {
        const topLeft = base + rectangles[r]!;
        const width = rectangles[r + 1]!;
        const height = rectangles[r + 2]!;
        featureSum +=
          (sum[topLeft + height + width]! -
            sum[topLeft + width]! -
            sum[topLeft + height]! +
            sum[topLeft]!) *
          rectangles[r + 3]!;
      }
      stageSum += featureSum * area < trees[t + 2]! * deviation ? trees[t + 3]! : trees[t + 4]!;
    }
    if (stageSum < stages[s + 2]!) return s / 3;
  }
  return stages.length / 3;
}

/** The coarse grid takes every second position of the fine grid in each direction. */
const coarseFactor = 2;
/**
 * Stages (of 22) that a coarse window must pass before the fine positions around it are
 * tried. Chosen on the Teaclave group photo, where the coarse-to-fine scan finds the same
 * 28 faces as a full scan of the fine grid with about a quarter of its tree evaluations.
 */
const promisingStages = 14;

/**
 * Runs the cascade over a pyramid of window sizes (a sliding window over integral images, as
 * in Viola and Jones 2001 and OpenCV's `CascadeClassifier`) and returns every raw hit.
 * Each level is scanned on a coarse grid of twice the step first. Only around windows that
 * pass most stages are the fine positions tried, which skips most of the background.
 */
function detectRaw(image: GrayImage, cascade: HaarCascade, options: DetectionOptions): Detection[] {
  const { stride, sum, squareSum } = integrate(image);
  const hits: Detection[] = [];
  const maxSize = Math.min(options.maxFaceSize, image.width, image.height);
  for (
    let scale = options.minFaceSize / cascade.windowSize;
    Math.round(cascade.windowSize * scale) <= maxSize;
    scale /= options.pyramidScaleFactor
  ) {
    const size = Math.round(cascade.windowSize * scale);
    const area = size * size;
    const scaled = scaleCascade(cascade, scale, stride, area);
    const stepX = Math.max(1, Math.round(size * options.stepFractionX));
    const stepY = Math.max(1, Math.round(size * options.stepFractionY));
    const columns = Math.floor((image.width - size) / stepX) + 1;
    const rows = Math.floor((image.height - size) / stepY) + 1;
    if (columns <= 0 || rows <= 0) continue;
    const tried = new Uint8Array(columns * rows);
    const right = size;
    const down = size * stride;

    const evaluate = (column: number, row: number): number => {
      tried[row * columns + column] = 1;
      const x = column * stepX;
      const y = row * stepY;
      const base = y * stride + x;
      const windowSum =
        sum[base + down + right]! - sum[base + right]! - sum[base + down]! + sum[base]!;
      const windowSquareSum =
        squareSum[base + down + right]! -
        squareSum[base + right]! -
        squareSum[base + down]! +
        squareSum[base]!;
      const variance = windowSquareSum * area - windowSum * windowSum;
      const deviation = variance > 0 ? Math.sqrt(variance) : area;
      const passed = countPassedStages(scaled, sum, base, area, deviation);
      if (passed === scaled.stages.length / 3) hits.push({ x, y, size, neighbors: 1 });
      return passed;
    };

    for (let row = 0; row < rows; row += coarseFactor) {
      for (let column = 0; column < columns; column += coarseFactor) {
        if (evaluate(column, row) < promisingStages) continue;
        const rowEnd = Math.min(rows - 1, row + coarseFactor - 1);
        const columnEnd = Math.min(columns - 1, column + coarseFactor - 1);
        for (let nearRow = Math.max(0, row - coarseFactor + 1); nearRow <= rowEnd; nearRow++) {
          for (
            let nearColumn = Math.max(0, column - coarseFactor + 1);
            nearColumn <= columnEnd;
            nearColumn++
          ) {
            if (tried[nearRow * columns + nearColumn] === 0) evaluate(nearColumn, nearRow);
          }
        }
      }
    }
  }
  return hits;
}

/** OpenCV's `SimilarRects` with eps 0.2: corners within 20% of the mean size. */
function similar(a: Detection, b: Detection): boolean {
  const delta = 0.2 * Math.min(a.size, b.size);
  return (
    Math.abs(a.x - b.x) <= delta &&
    Math.abs(a.y - b.y) <= delta &&
    Math.abs(a.x + a.size - b.x - b.size) <= delta &&
    Math.abs(a.y + a.size - b.y - b.size) <= delta
  );
}

function intersectionOverUnion(a: Detection, b: Detection): number {
  const width = Math.min(a.x + a.size, b.x + b.size) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.size, b.y + b.size) - Math.max(a.y, b.y);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  return intersection / (a.size * a.size + b.size * b.size - intersection);
}

/**
 * Merges raw hits into faces. Clusters of similar windows are averaged, as OpenCV's
 * `groupRectangles` does, and clusters with fewer than `minNeighbors` hits are dropped. Of two
 * faces that overlap by more than 30% (intersection over union), the one with more hits stays.
 */
function groupDetections(hits: readonly Detection[], minNeighbors: number): Detection[] {
  const parent = hits.map((_, index) => index);
  const find = (index: number): number => {
    while (parent[index] !== index) {
      parent[index] = parent[parent[index]!]!;
      index = parent[index]!;
    }
    return index;
  };
  // Similar windows differ in x by at most 20% of the smaller size, so after sorting by x
  // each hit only needs comparing with the hits that follow it within that distance.
  const byX = hits.map((_, index) => index).sort((a, b) => hits[a]!.x - hits[b]!.x);
  for (let i = 0; i < byX.length; i++) {
    const first = hits[byX[i]!]!;
    for (let j = i + 1; j < byX.length; j++) {
      const second = hits[byX[j]!]!;
      if (second.x - first.x > 0.2 * first.size) break;
      if (similar(first, second)) parent[find(byX[i]!)] = find(byX[j]!);
    }
  }
  const clusters = new Map<number, { x: number; y: number; size: number; count: number }>();
  for (const [index, hit] of hits.entries()) {
    const root = find(index);
    const cluster = clusters.get(root) ?? { x: 0, y: 0, size: 0, count: 0 };
    cluster.x += hit.x;
    cluster.y += hit.y;
    cluster.size += hit.size;
    cluster.count += 1;
    clusters.set(root, cluster);
  }
  const faces = [...clusters.values()]
    .filter((cluster) => cluster.count >= minNeighbors)
    .map((cluster) => ({
      x: Math.round(cluster.x / cluster.count),
      y: Math.round(cluster.y / cluster.count),
      size: Math.round(cluster.size / cluster.count),
      neighbors: cluster.count,
    }))
    .sort((a, b) => b.neighbors - a.neighbors || a.y - b.y || a.x - b.x);
  const selected: Detection[] = [];
  for (const face of faces) {
    if (selected.every((other) => intersectionOverUnion(face, other) <= 0.3)) selected.push(face);
  }
  return selected;
}

/** Detects faces in a grayscale image and returns them sorted by position (top, then left). */
export function detectFaces(
  image: GrayImage,
  cascade: HaarCascade,
  options: DetectionOptions,
): Detection[] {
  const faces = groupDetections(detectRaw(image, cascade, options), options.minNeighbors);
  return faces.sort((a, b) => a.y - b.y || a.x - b.x);
}
