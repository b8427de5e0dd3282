import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";

test("rsa-sign matches fixture", async () => {
  const result = await runBuiltin(
    "builtin-rsa-sign",
    { data: "test data" },
    { rsa_key: teaclaveFixture("functions/rsa_sign/key.der") },
  );
  const expected = await readFile(
    teaclaveFixture("functions/rsa_sign/expected_rsasign.txt"),
    "utf8",
  );
  assert.equal(result.summary, expected.replaceAll("\n", ""));
});

test("rsa-sign invalid key", async () => {
  const key = await writeTempInput("key.der", "not a key");
  await assert.rejects(runBuiltin("builtin-rsa-sign", { data: "test data" }, { rsa_key: key }), {
    code: "INVALID_ARGUMENT",
    message: /input "rsa_key" is not an RSA private key/,
  });
});

test("echo returns message", async () => {
  const result = await runBuiltin("builtin-echo", { message: "Hello Teaclave!" }, {});
  assert.equal(result.summary, "Hello Teaclave!");
});

test("executor unknown function", async () => {
  await assert.rejects(runBuiltin("builtin-nothing", {}, {}), {
    code: "NOT_FOUND",
    message: /no built-in function is named "builtin-nothing"/,
  });
});
