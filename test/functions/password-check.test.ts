import { test } from "node:test";
import assert from "node:assert/strict";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin, writeTempInput } from "./run-builtin.ts";

const exposed = teaclaveFixture("functions/password_check/exposed_passwords.txt");

test("password-check exposed password", async () => {
  const result = await runBuiltin(
    "builtin-password-check",
    {},
    {
      password: teaclaveFixture("functions/password_check/password.txt"),
      exposed_passwords: exposed,
    },
  );
  assert.equal(result.summary, "true");
});

test("password-check unexposed password", async () => {
  const password = await writeTempInput("password", "  correct horse battery staple \nqwerty\n");
  const result = await runBuiltin(
    "builtin-password-check",
    {},
    {
      password,
      exposed_passwords: exposed,
    },
  );
  assert.equal(result.summary, "false");
});

test("password-check empty password file", async () => {
  const password = await writeTempInput("password", "");
  await assert.rejects(
    runBuiltin("builtin-password-check", {}, { password, exposed_passwords: exposed }),
    { code: "INVALID_ARGUMENT", message: /input "password" is empty/ },
  );
});
