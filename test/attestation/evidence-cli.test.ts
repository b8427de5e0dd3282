import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { attestationFixture, repositoryRoot } from "../helpers/fixtures.ts";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cloister(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repositoryRoot, "bin/cloister.mjs"), ...args],
      { cwd: repositoryRoot },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const phala = (name: string): string => attestationFixture(`phala-dcap-qvl/${name}`);
const goTdx = (name: string): string => attestationFixture(`go-tdx-guest/${name}`);
const sev = (name: string): string => attestationFixture(`go-sev-guest/${name}`);

// The CLI takes about two seconds to start, so the runs go in parallel.
test("evidence verify CLI exit codes", async () => {
  const [accepted, rejected, pieces, snp, missing, noCollateral, badPolicy] = await Promise.all([
    cloister([
      "evidence",
      "verify",
      "--evidence",
      phala("sgx_quote"),
      "--collateral",
      phala("sgx_quote_collateral.json"),
      "--at",
      "2025-07-19T10:01:17Z",
      "--policy",
      '{"acceptedTcbStatuses":["ConfigurationAndSWHardeningNeeded"]}',
    ]),
    cloister([
      "evidence",
      "verify",
      "--evidence",
      phala("sgx_quote"),
      "--collateral",
      phala("sgx_quote_collateral.json"),
      "--at",
      "2025-07-19T10:01:17Z",
    ]),
    cloister([
      "evidence",
      "verify",
      "--evidence",
      goTdx("tdx_prod_quote_SPR_E4.dat"),
      "--tcb-info",
      goTdx("sample_tcbInfo_response"),
      "--qe-identity",
      goTdx("sample_qeIdentity_response"),
      "--tcb-signing-chain",
      goTdx("tcbinfo_issuer_chain.pem"),
      "--pck-crl",
      goTdx("pckcrl"),
      "--root-ca-crl",
      goTdx("rootcrl.der"),
      "--at",
      "2023-07-01T01:00:00Z",
    ]),
    cloister([
      "evidence",
      "verify",
      "--evidence",
      sev("attestation.bin"),
      "--vcek",
      sev("vcek.testcer"),
      "--cert-chain",
      sev("ask_ark_milan.pem"),
      "--at",
      "2022-09-24T01:00:00Z",
      "--policy",
      '{"allowDebug":true}',
    ]),
    cloister(["evidence", "verify", "--evidence", phala("no_such_quote")]),
    cloister(["evidence", "verify", "--evidence", phala("tdx_quote")]),
    cloister([
      "evidence",
      "verify",
      "--evidence",
      phala("sgx_quote"),
      "--collateral",
      phala("sgx_quote_collateral.json"),
      "--policy",
      '{"allowDebugg":true}',
    ]),
  ]);

  assert.equal(accepted.code, 0, accepted.stderr);
  const verdict = JSON.parse(accepted.stdout) as Record<string, unknown>;
  assert.equal(verdict["accepted"], true);
  assert.equal(verdict["tcbStatus"], "ConfigurationAndSWHardeningNeeded");

  assert.equal(rejected.code, 1, rejected.stderr);
  const rejection = JSON.parse(rejected.stdout) as { rejection: { code: string } };
  assert.equal(rejection.rejection.code, "TCB_STATUS_NOT_ACCEPTED");

  assert.equal(pieces.code, 1, pieces.stderr);
  assert.equal(
    (JSON.parse(pieces.stdout) as { rejection: { code: string } }).rejection.code,
    "TCB_NOT_SUPPORTED",
  );

  assert.equal(snp.code, 0, snp.stderr);
  assert.equal((JSON.parse(snp.stdout) as { tee: string }).tee, "sev-snp");

  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no_such_quote cannot be read/);
  assert.equal(noCollateral.code, 2);
  assert.match(noCollateral.stderr, /needs --collateral FILE/);
  assert.equal(badPolicy.code, 2);
  assert.match(badPolicy.stderr, /unknown keys allowDebugg/);
});
