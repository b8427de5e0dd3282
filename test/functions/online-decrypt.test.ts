import { test } from "node:test";
import assert from "node:assert/strict";
import { runBuiltin } from "./run-builtin.ts";

const nonce = "AAECAwQFBgcICQoL";
const aes256 = {
  key: "aqUdgZ0lJnuz9yiPkoDxM6ZcTcVVpd4KKLqzbHD88Lg=",
  nonce,
  encrypted_data: "CaZd8qSMMlBp8SjSXj2I4dQIuC9KkZ5DI/ATo1sWJw==",
  algorithm: "aes256gcm",
};
const aes128 = {
  key: "aqUdgZ0lJnuz9yiPkoDxMw==",
  nonce,
  encrypted_data: "OqMscYqxk1CshHQZulTrrDlJjS/v6BE/clWJyTerUw==",
  algorithm: "aes128gcm",
};

test("online-decrypt aes256gcm vector", async () => {
  const result = await runBuiltin("builtin_online_decrypt", aes256, {});
  assert.equal(result.summary, "Hello Teaclave!");
});

test("online-decrypt aes128gcm vector", async () => {
  const result = await runBuiltin("builtin_online_decrypt", aes128, {});
  assert.equal(result.summary, "Hello Teaclave!");
});

test("online-decrypt uses first 12 nonce bytes", async () => {
  const longNonce = Buffer.concat([Buffer.from(nonce, "base64"), Buffer.from([9, 9, 9, 9])]);
  const result = await runBuiltin(
    "builtin_online_decrypt",
    { ...aes256, nonce: longNonce.toString("base64") },
    {},
  );
  assert.equal(result.summary, "Hello Teaclave!");
});

test("online-decrypt tampered data", async () => {
  const data = Buffer.from(aes256.encrypted_data, "base64");
  data[0]! ^= 1;
  await assert.rejects(
    runBuiltin(
      "builtin_online_decrypt",
      { ...aes256, encrypted_data: data.toString("base64") },
      {},
    ),
    { code: "INTEGRITY", message: "decryption failed" },
  );
});

test("online-decrypt wrong key length", async () => {
  await assert.rejects(runBuiltin("builtin_online_decrypt", { ...aes256, key: aes128.key }, {}), {
    code: "INVALID_ARGUMENT",
    message: /"key" must decode to 32 bytes/,
  });
});

test("online-decrypt invalid arguments", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...aes256, algorithm: "aes192gcm" }, /argument "algorithm"/],
    [{ ...aes256, nonce: "AAEC" }, /"nonce" must decode to at least 12 bytes/],
    [{ ...aes256, encrypted_data: "not base64!" }, /"encrypted_data" is not valid base64/],
    [{ key: aes256.key, nonce, algorithm: "aes256gcm" }, /missing argument "encrypted_data"/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(runBuiltin("builtin_online_decrypt", args, {}), {
      code: "INVALID_ARGUMENT",
      message,
    });
  }
});
