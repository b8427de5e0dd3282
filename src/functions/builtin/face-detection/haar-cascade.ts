import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { runInNewContext } from "node:vm";

/** One weak classifier: a Haar feature of weighted rectangles and its threshold. */
export interface HaarTree {
  /** Rectangles as flat [x, y, width, height, weight] groups in window coordinates. */
  readonly rectangles: Float64Array;
  readonly threshold: number;
  readonly leftValue: number;
  readonly rightValue: number;
}

export interface HaarStage {
  readonly threshold: number;
  readonly trees: readonly HaarTree[];
}

/** A Viola–Jones cascade with a square base window. */
export interface HaarCascade {
  readonly windowSize: number;
  readonly stages: readonly HaarStage[];
}

interface JsfeatCascade {
  size: [number, number];
  tilted: boolean;
  complexClassifiers: {
    threshold: number;
    simpleClassifiers: {
      features: number[][];
      threshold: number;
      left_val: number;
      right_val: number;
      tilted?: number;
    }[];
  }[];
}

let frontalFace: HaarCascade | undefined;

/**
 * Loads OpenCV's `haarcascade_frontalface_alt` (22 stages, 20×20 window) from the data file
 * that the jsfeat 0.0.8 package ships as `cascades/frontalface.js`. The file is a script
 * that assigns the cascade to `jsfeat.haar.frontalface`, so it runs in an empty VM context
 * that exposes only that object.
 */
export function loadFrontalFaceCascade(): HaarCascade {
  if (frontalFace !== undefined) return frontalFace;
  const require = createRequire(import.meta.url);
  const path = require.resolve("jsfeat/cascades/frontalface.js");
  const haar: { frontalface?: JsfeatCascade } = {};
  runInNewContext(readFileSync(path, "utf8"), { jsfeat: { haar } }, { timeout: 5000 });
  const source = haar.frontalface;
  if (source === undefined || source.size[0] !== source.size[1] || source.tilted) {
    throw new Error(`unexpected cascade format in ${path}`);
  }
  frontalFace = {
    windowSize: source.size[0],
    stages: source.complexClassifiers.map((stage) => ({
      threshold: stage.threshold,
      trees: stage.simpleClassifiers.map((tree) => {
        if (tree.tilted === 1) throw new Error(`tilted features are not supported in ${path}`);
        return {
          rectangles: Float64Array.from(tree.features.flat()),
          threshold: tree.threshold,
          leftValue: tree.left_val,
          rightValue: tree.right_val,
        };
      }),
    })),
  };
  return frontalFace;
}
