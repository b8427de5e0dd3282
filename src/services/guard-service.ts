import { Code, ConnectError } from "@connectrpc/connect";
import { CloisterError, toConnectError } from "../common/errors.ts";
import type { Logger } from "../common/logger.ts";

type Handler = (request: unknown, context: unknown) => Promise<unknown>;

/**
 * Wraps every method of a service implementation so that a CloisterError reaches the caller
 * as its gRPC status and message, and any other error as a bare INTERNAL status with the
 * detail only in the local log.
 */
export function guardService<T extends object>(
  implementation: T,
  logger: Logger,
  component: string,
): T {
  const guarded: Record<string, Handler> = {};
  for (const [name, method] of Object.entries(implementation)) {
    if (typeof method !== "function") continue;
    const handler = method as Handler;
    guarded[name] = async (request, context) => {
      try {
        return await handler.call(implementation, request, context);
      } catch (error) {
        const wireError = toConnectError(error);
        if (wireError.code === Code.Internal && !(error instanceof ConnectError)) {
          logger.error({ component, method: name, err: error }, "request failed");
        } else if (CloisterError.is(error) && error.code === "INTEGRITY") {
          logger.warn({ component, method: name, err: error }, "integrity check failed");
        } else {
          logger.debug({ component, method: name, code: wireError.code }, "request rejected");
        }
        throw wireError;
      }
    };
  }
  return guarded as T;
}
