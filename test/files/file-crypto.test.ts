import assert from "node:assert/strict";
import { test } from "node:test";
import { generateFileCrypto, parseFileCrypto } from "../../src/files/file-crypto.ts";

const bytes = (length: number) => new Uint8Array(length);

test("parseFileCrypto accepts valid schemas", () => {
  assert.deepEqual(parseFileCrypto({ schema: "raw" }, "input"), { schema: "raw" });
  assert.deepEqual(parseFileCrypto({ schema: "raw", key: bytes(0), iv: bytes(0) }, "input"), {
    schema: "raw",
  });
  const gcm128 = parseFileCrypto(
    { schema: "aes-gcm-128", key: bytes(16), iv: bytes(12) },
    "output",
  );
  assert.equal(gcm128.schema, "aes-gcm-128");
  const gcm256 = parseFileCrypto({ schema: "aes-gcm-256", key: bytes(32), iv: bytes(12) }, "input");
  assert.equal(gcm256.schema, "aes-gcm-256");
  const pfs = parseFileCrypto(
    { schema: "teaclave-file-128", key: bytes(16), iv: bytes(0) },
    "input",
  );
  assert.deepEqual(pfs, { schema: "teaclave-file-128", key: bytes(16) });
});

test("parseFileCrypto rejects bad lengths", () => {
  const cases = [
    [
      { schema: "aes-gcm-128", key: bytes(32), iv: bytes(12) },
      /aes-gcm-128 key: expected 16 bytes, got 32/,
    ],
    [
      { schema: "aes-gcm-128", key: bytes(16), iv: bytes(16) },
      /aes-gcm-128 iv: expected 12 bytes, got 16/,
    ],
    [
      { schema: "aes-gcm-256", key: bytes(16), iv: bytes(12) },
      /aes-gcm-256 key: expected 32 bytes, got 16/,
    ],
    [{ schema: "aes-gcm-256", key: bytes(32) }, /aes-gcm-256 iv: expected 12 bytes, got 0/],
    [
      { schema: "teaclave-file-128", key: bytes(16), iv: bytes(12) },
      /teaclave-file-128 iv: expected 0 bytes, got 12/,
    ],
    [
      { schema: "teaclave-file-128", key: bytes(15) },
      /teaclave-file-128 key: expected 16 bytes, got 15/,
    ],
    [{ schema: "raw", key: bytes(16) }, /raw key: expected 0 bytes, got 16/],
  ] as const;
  for (const [value, message] of cases) {
    assert.throws(() => parseFileCrypto(value, "input"), { code: "INVALID_ARGUMENT", message });
  }
});

test("parseFileCrypto rejects raw outputs", () => {
  assert.throws(() => parseFileCrypto({ schema: "raw" }, "output"), {
    code: "INVALID_ARGUMENT",
    message: /raw for an output/,
  });
});

test("parseFileCrypto rejects unknown schemas", () => {
  assert.throws(() => parseFileCrypto({ schema: "aes-cbc" }, "input"), {
    code: "INVALID_ARGUMENT",
    message: /"aes-cbc".*teaclave-file-128/,
  });
});

test("parseFileCrypto copies the key", () => {
  const key = bytes(16);
  const crypto = parseFileCrypto({ schema: "teaclave-file-128", key }, "input");
  key[0] = 9;
  assert.ok(crypto.schema === "teaclave-file-128");
  assert.equal(crypto.key[0], 0);
});

test("generateFileCrypto makes random keys", () => {
  const first = generateFileCrypto("aes-gcm-256");
  const second = generateFileCrypto("aes-gcm-256");
  assert.ok(first.schema === "aes-gcm-256");
  assert.ok(second.schema === "aes-gcm-256");
  assert.equal(first.key.length, 32);
  assert.equal(first.iv.length, 12);
  assert.notDeepEqual(first.key, second.key);
  const pfs = generateFileCrypto("teaclave-file-128");
  assert.ok(pfs.schema === "teaclave-file-128");
  assert.equal(pfs.key.length, 16);
  assert.throws(() => generateFileCrypto("raw" as "aes-gcm-128"), { code: "INVALID_ARGUMENT" });
});
