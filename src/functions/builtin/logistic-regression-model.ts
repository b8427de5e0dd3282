import { CloisterError } from "../../common/errors.ts";
import { formatJsonF64 } from "./rust-format.ts";

/**
 * rusty-machine's `LogisticRegressor<GradientDesc>` as Teaclave stores it:
 * `{"alpha":…,"iters":…,"parameters":[intercept, w1, …, wF]}`.
 */
export interface LogisticRegressionModel {
  readonly alpha: number;
  readonly iterations: number;
  /** The intercept followed by one weight per feature. */
  readonly parameters: readonly number[];
}

/**
 * Computes Σ u[i]·v[i] in the order of rulinalg's `utils::dot`, which rusty-machine uses for
 * matrix–vector products: eight running sums over blocks of eight, then the tail. Keeping
 * that order keeps results within a few ulps of Teaclave's.
 */
export function dotProduct(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const length = Math.min(u.length, v.length);
  const partial = [0, 0, 0, 0, 0, 0, 0, 0];
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    for (let lane = 0; lane < 8; lane++) partial[lane]! += u[i + lane]! * v[i + lane]!;
  }
  let sum = 0;
  sum = sum + partial[0]! + partial[4]!;
  sum = sum + partial[1]! + partial[5]!;
  sum = sum + partial[2]! + partial[6]!;
  sum = sum + partial[3]! + partial[7]!;
  for (; i < length; i++) sum = sum + u[i]! * v[i]!;
  return sum;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Serializes the model exactly as serde_json writes rusty-machine's regressor. */
export function serializeLogisticRegression(model: LogisticRegressionModel): string {
  const parameters = model.parameters.map(formatJsonF64).join(",");
  return `{"alpha":${formatJsonF64(model.alpha)},"iters":${model.iterations},"parameters":[${parameters}]}`;
}

/** Reads a model written by `builtin-logistic-regression-train` or by Teaclave. */
export function parseLogisticRegression(text: string, slot: string): LogisticRegressionModel {
  const invalid = (problem: string): CloisterError =>
    new CloisterError(
      "INVALID_ARGUMENT",
      `input "${slot}" is not a logistic regression model: ${problem}`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid("it is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid("it must be a JSON object");
  }
  const { alpha, iters, parameters } = parsed as Record<string, unknown>;
  if (typeof alpha !== "number") throw invalid(`"alpha" must be a number`);
  if (typeof iters !== "number" || !Number.isSafeInteger(iters) || iters < 0) {
    throw invalid(`"iters" must be a non-negative integer`);
  }
  if (parameters === null || parameters === undefined) {
    throw invalid(`"parameters" is missing, so the model was never trained`);
  }
  if (!Array.isArray(parameters) || !parameters.every((value) => typeof value === "number")) {
    throw invalid(`"parameters" must be an array of numbers`);
  }
  if (parameters.length < 2) throw invalid(`"parameters" needs an intercept and a weight`);
  return { alpha, iterations: iters, parameters: parameters as number[] };
}
