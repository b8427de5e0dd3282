import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";

/** Asserts that `promise` fails with a ConnectError of `code`, whose message matches `pattern`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: Code,
  pattern?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${String(error)}`);
    assert.equal(Code[error.code], Code[code], error.message);
    if (pattern !== undefined) assert.match(error.rawMessage, pattern);
    return true;
  });
}
