import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repositoryRoot, teaclaveFixture } from "../helpers/fixtures.ts";

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cloister(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repositoryRoot, "bin/cloister.mjs"), ...args],
      { cwd: repositoryRoot },
      (error, stdout, stderr) => {
        let code = 0;
        if (error !== null) code = typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const zeroKey = "00".repeat(16);
let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-cli-crypto-"));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

// Each spawn loads the whole CLI through tsx, so the cases run side by side.
describe("cloister encrypt and decrypt", { concurrency: 4 }, () => {
  test("decrypt teaclave-file-128 fixture", async () => {
    const output = join(directory, "train.txt");
    const result = await cloister([
      "decrypt",
      "--algorithm",
      "teaclave-file-128",
      "--key",
      zeroKey,
      "--input-file",
      teaclaveFixture("functions/gbdt_training/train.enc"),
      "--output-file",
      output,
      "--print-cmac",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "860030495909b84864b991865e9ad94f\n");
    assert.deepEqual(
      await readFile(output),
      await readFile(teaclaveFixture("functions/gbdt_training/train.txt")),
    );
  });

  test("decrypt aes-gcm-128 fixture", async () => {
    const output = join(directory, "train-gcm.txt");
    const result = await cloister([
      "decrypt",
      "--algorithm",
      "aes-gcm-128",
      "--key",
      zeroKey,
      "--iv",
      "01".repeat(12),
      "--input-file",
      teaclaveFixture("functions/gbdt_training/train.aes_gcm_128"),
      "--output-file",
      output,
      "--print-cmac",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "592f1e607649d89ff2aa8a2841a57cad\n");
    assert.deepEqual(
      await readFile(output),
      await readFile(teaclaveFixture("functions/gbdt_training/train.txt")),
    );
  });

  test("encrypt aes-gcm-256 fusion input", async () => {
    const output = join(directory, "input2.enc");
    const result = await cloister([
      "encrypt",
      "--algorithm",
      "aes-gcm-256",
      "--key",
      "00".repeat(31) + "02",
      "--iv",
      "012345670123456701234567",
      "--input-file",
      teaclaveFixture("fusion/input2.txt"),
      "--output-file",
      output,
      "--print-cmac",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "75d7cf7a7843dee709e29ba0dcb865d2\n");
    assert.equal(
      (await readFile(output)).subarray(-16).toString("hex"),
      "75d7cf7a7843dee709e29ba0dcb865d2",
    );
  });

  test("encrypt then decrypt teaclave-file-128", async () => {
    const encrypted = join(directory, "psi.enc");
    const decrypted = join(directory, "psi.txt");
    const plain = teaclaveFixture("functions/ordered_set_intersect/psi1.txt");
    const encrypt = await cloister([
      "encrypt",
      "--algorithm",
      "teaclave-file-128",
      "--key",
      "ab".repeat(16),
      "--input-file",
      plain,
      "--output-file",
      encrypted,
      "--print-cmac",
    ]);
    assert.equal(encrypt.code, 0, encrypt.stderr);
    assert.match(encrypt.stdout, /^[0-9a-f]{32}\n$/);
    const bytes = await readFile(encrypted);
    assert.equal(bytes.subarray(80, 96).toString("hex"), encrypt.stdout.trim());

    const decrypt = await cloister([
      "decrypt",
      "--algorithm",
      "teaclave-file-128",
      "--key",
      "ab".repeat(16),
      "--input-file",
      encrypted,
      "--output-file",
      decrypted,
    ]);
    assert.equal(decrypt.code, 0, decrypt.stderr);
    assert.equal(decrypt.stdout, "");
    assert.deepEqual(await readFile(decrypted), await readFile(plain));
  });

  test("bad key length exits 2", async () => {
    const result = await cloister([
      "encrypt",
      "--algorithm",
      "aes-gcm-256",
      "--key",
      zeroKey,
      "--iv",
      "00".repeat(12),
      "--input-file",
      teaclaveFixture("fusion/input1.txt"),
      "--output-file",
      join(directory, "never-1"),
    ]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /--key must be 32 bytes \(64 hex digits\) for aes-gcm-256, got 16 bytes/,
    );
  });

  test("bad iv hex exits 2", async () => {
    const result = await cloister([
      "encrypt",
      "--algorithm",
      "aes-gcm-128",
      "--key",
      zeroKey,
      "--iv",
      "zz".repeat(12),
      "--input-file",
      teaclaveFixture("fusion/input1.txt"),
      "--output-file",
      join(directory, "never-2"),
    ]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /--iv must be an even number of hexadecimal digits \(12 bytes for aes-gcm-128\)/,
    );
    assert.doesNotMatch(result.stderr, /zzzz/);
  });

  test("tampered file exits 1 without output", async () => {
    const bytes = await readFile(teaclaveFixture("functions/gbdt_training/train.aes_gcm_128"));
    bytes[0]! ^= 1;
    const input = join(directory, "tampered.aes_gcm_128");
    const output = join(directory, "tampered.txt");
    await writeFile(input, bytes);
    const result = await cloister([
      "decrypt",
      "--algorithm",
      "aes-gcm-128",
      "--key",
      zeroKey,
      "--iv",
      "01".repeat(12),
      "--input-file",
      input,
      "--output-file",
      output,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /failed its integrity check/);
    await assert.rejects(readFile(output), { code: "ENOENT" });
  });
});
