import { execFile } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { repositoryRoot } from "../helpers/fixtures.ts";

function cloister(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repositoryRoot, "bin/cloister.mjs"), ...args],
      { cwd: repositoryRoot },
      (error, stdout, stderr) => {
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

test("verify CLI checks auditor signatures", async () => {
  const directory = mkdtempSync(join(tmpdir(), "cloister-verify-"));
  const enclaveInfo = Buffer.from(
    `[teaclave_frontend_service]\nmr_enclave = "${"aa".repeat(32)}"\nmr_signer = "${"bb".repeat(32)}"\n`,
  );
  const infoPath = join(directory, "enclave_info.toml");
  writeFileSync(infoPath, enclaveInfo);
  const tamperedPath = join(directory, "tampered.toml");
  writeFileSync(tamperedPath, Buffer.concat([enclaveInfo, Buffer.from("# edited\n")]));
  const keys: string[] = [];
  const signatures: string[] = [];
  for (const name of ["godzilla", "optimus_prime"]) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    keys.push(join(directory, `${name}.public.pem`));
    writeFileSync(keys.at(-1)!, publicKey.export({ type: "pkcs1", format: "pem" }));
    signatures.push(join(directory, `${name}.sign.sha256`));
    writeFileSync(signatures.at(-1)!, sign("sha256", enclaveInfo, privateKey));
  }

  const [valid, tampered, twice, missing] = await Promise.all([
    cloister([
      "verify",
      "--enclave-info",
      infoPath,
      "--public-keys",
      ...keys,
      "--signatures",
      ...signatures,
    ]),
    cloister([
      "verify",
      "--enclave-info",
      tamperedPath,
      "--public-keys",
      ...keys,
      "--signatures",
      ...signatures,
    ]),
    cloister([
      "verify",
      "--enclave-info",
      infoPath,
      "--public-keys",
      ...keys,
      "--signatures",
      signatures[0]!,
      signatures[0]!,
      "--threshold",
      "2",
    ]),
    cloister([
      "verify",
      "--enclave-info",
      join(directory, "none.toml"),
      "--public-keys",
      ...keys,
      "--signatures",
      ...signatures,
    ]),
  ]);

  assert.equal(valid.code, 0, valid.stderr);
  const report = JSON.parse(valid.stdout) as {
    verified: boolean;
    services: Record<string, unknown>;
  };
  assert.equal(report.verified, true);
  assert.deepEqual(report.services["teaclave_frontend_service"], {
    mrEnclave: "aa".repeat(32),
    mrSigner: "bb".repeat(32),
  });
  assert.equal(tampered.code, 1);
  assert.match(tampered.stderr, /verifies under no auditor key/);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /repeats a key/);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /none\.toml cannot be read/);
});
