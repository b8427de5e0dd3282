import { execFile } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
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

test("attest CLI simulation round trip", async () => {
  const directory = mkdtempSync(join(tmpdir(), "cloister-attest-"));
  const evidencePath = join(directory, "evidence.json");
  const publicKeyPath = join(directory, "simulation.pub.pem");
  const reportData = "5a".repeat(64);
  const [attested, badData] = await Promise.all([
    cloister([
      "attest",
      "--provider",
      "simulation",
      "--data-dir",
      join(directory, "data"),
      "--out",
      evidencePath,
      "--public-key-out",
      publicKeyPath,
      "--report-data",
      reportData,
    ]),
    cloister([
      "attest",
      "--provider",
      "simulation",
      "--data-dir",
      directory,
      "--out",
      evidencePath,
      "--report-data",
      "00",
    ]),
  ]);
  assert.equal(attested.code, 0, attested.stderr);
  const summary = JSON.parse(attested.stdout) as { kind: string; hardwareProtected: boolean };
  assert.equal(summary.kind, "simulation");
  assert.equal(summary.hardwareProtected, false);
  assert.equal(
    statSync(join(directory, "data", "simulation-attestation-key.pem")).mode & 0o777,
    0o600,
  );
  assert.equal(badData.code, 2);
  assert.match(badData.stderr, /--report-data must be 128 hex characters/);

  const verified = await cloister([
    "evidence",
    "verify",
    "--evidence",
    evidencePath,
    "--simulation-key",
    publicKeyPath,
    "--policy",
    JSON.stringify({ reportData }),
  ]);
  assert.equal(verified.code, 0, verified.stderr);
  const verdict = JSON.parse(verified.stdout) as {
    tee: string;
    hardwareProtected: boolean;
    reportData: string;
  };
  assert.equal(verdict.tee, "simulation");
  assert.equal(verdict.hardwareProtected, false);
  assert.equal(verdict.reportData, reportData);
});
