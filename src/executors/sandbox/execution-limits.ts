import { CloisterError } from "../../common/errors.ts";
import type { ExecutionLimits } from "../executor.ts";

/** Limits of one run after an executor's defaults were applied to the zero values. */
export interface ResolvedLimits {
  readonly cpuTimeMs: number;
  readonly memoryBytes: number;
  readonly outputBytes: number;
}

/**
 * Applies `defaults` to the zero values of `limits` and checks that each limit is a
 * non-negative integer no larger than the executor's maximum.
 */
export function resolveLimits(
  limits: ExecutionLimits,
  defaults: ResolvedLimits,
  maximums: ResolvedLimits,
): ResolvedLimits {
  return {
    cpuTimeMs: resolveOne("cpuTimeMs", limits.cpuTimeMs, defaults.cpuTimeMs, maximums.cpuTimeMs),
    memoryBytes: resolveOne(
      "memoryBytes",
      limits.memoryBytes,
      defaults.memoryBytes,
      maximums.memoryBytes,
    ),
    outputBytes: resolveOne(
      "outputBytes",
      limits.outputBytes,
      defaults.outputBytes,
      maximums.outputBytes,
    ),
  };
}

function resolveOne(name: string, value: number, fallback: number, maximum: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `limit ${name} must be a non-negative integer, got ${value}`,
    );
  }
  if (value > maximum) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `limit ${name} of ${value} is above this executor's maximum of ${maximum}; lower it`,
    );
  }
  return value === 0 ? fallback : value;
}
