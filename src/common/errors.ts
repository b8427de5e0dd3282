import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Error codes used across Cloister. Each maps to one gRPC status at the RPC boundary, so a
 * caller can branch on the status while the message names the value and the fix.
 */
export const errorCodes = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  PERMISSION_DENIED: Code.PermissionDenied,
  UNAUTHENTICATED: Code.Unauthenticated,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  ABORTED: Code.Aborted,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  INTEGRITY: Code.DataLoss,
  INTERNAL: Code.Internal,
} as const;

export type ErrorCode = keyof typeof errorCodes;

const brand = Symbol.for("cloister.error");

/** The one error type of Cloister's libraries, narrowed by `code`. */
export class CloisterError extends Error {
  readonly code: ErrorCode;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CloisterError";
    this.code = code;
  }

  /** Tells whether `value` is a CloisterError, also across worker threads and duplicate copies. */
  static is(value: unknown): value is CloisterError {
    return typeof value === "object" && value !== null && brand in value;
  }
}

/**
 * Converts any thrown value to the ConnectError that goes on the wire. An error received
 * from an internal call is copied without its metadata, whose transport headers must not be
 * replayed to the caller.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return new ConnectError(error.rawMessage, error.code);
  if (CloisterError.is(error)) return new ConnectError(error.message, errorCodes[error.code]);
  return new ConnectError("internal error", Code.Internal);
}
