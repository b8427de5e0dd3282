import type { ExecutionRequest } from "../executor.ts";

/**
 * Tells whether the task asked for the function's log: Teaclave returns captured log lines
 * only when the function arguments include `"save_log": "true"`.
 */
export function saveLogRequested(request: ExecutionRequest): boolean {
  const value = request.arguments.save_log;
  return value === "true" || value === true;
}
