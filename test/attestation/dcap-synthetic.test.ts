import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAttestedCertificate } from "../../src/attestation/certificate/create-attested-certificate.ts";
import { rawP256Point } from "../../src/attestation/certificate/key-binding.ts";
import {
  verifyAttestedCertificate,
  type VerifyAttestedCertificateOptions,
} from "../../src/attestation/certificate/verify-attested-certificate.ts";
import type { EvidenceProvider } from "../../src/attestation/evidence.ts";
import { verifyDcapQuote } from "../../src/attestation/intel/verify-quote.ts";
import type { SgxMeasurements } from "../../src/attestation/verdict.ts";
import { SYNTHETIC_NOW, createSyntheticSgx, type SyntheticSgxOptions } from "./synthetic-sgx.ts";

const base: SyntheticSgxOptions = {
  version: 4,
  pckComponents: 5,
  pckSvn: 13,
  tcbLevels: [
    { components: 5, pceSvn: 13, status: "UpToDate" },
    { components: 4, pceSvn: 13, status: "SWHardeningNeeded", advisoryIDs: ["INTEL-SA-00001"] },
    { components: 2, pceSvn: 10, status: "OutOfDate", advisoryIDs: ["INTEL-SA-00002"] },
  ],
  qeIsvSvn: 8,
  qeLevels: [
    { isvsvn: 8, status: "UpToDate" },
    { isvsvn: 6, status: "OutOfDate", advisoryIDs: ["INTEL-SA-00003"] },
  ],
};

async function verify(overrides: Partial<SyntheticSgxOptions>, policy = {}) {
  const pki = await createSyntheticSgx({ ...base, ...overrides });
  const verdict = verifyDcapQuote(pki.quote, {
    now: SYNTHETIC_NOW,
    collateral: pki.collateral,
    trustAnchors: [pki.root],
    policy,
  });
  return { pki, verdict };
}

test("synthetic SGX v4 quote is up to date", async () => {
  const { pki, verdict } = await verify({});
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  assert.equal(verdict.tee, "sgx");
  assert.equal(verdict.tcbStatus, "UpToDate");
  assert.equal((verdict.measurements as SgxMeasurements).mrEnclave, pki.mrEnclave);
  assert.deepEqual(verdict.collateralWindow, {
    notBefore: "2025-01-01T00:00:00.000Z",
    notAfter: "2025-02-01T00:00:00.000Z",
  });
});

test("synthetic SGX v3 quote is up to date", async () => {
  const { verdict } = await verify({ version: 3 });
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
});

test("synthetic SGX revocations", async () => {
  for (const revoke of ["leaf", "intermediate", "tcb-signing"] as const) {
    const { verdict } = await verify({ revoke });
    assert.equal(verdict.rejection?.code, "CERT_REVOKED", revoke);
  }
});

test("synthetic SGX TCB levels and QE convergence", async () => {
  const hardening = await verify({ pckComponents: 4 });
  assert.equal(hardening.verdict.tcbStatus, "SWHardeningNeeded");
  assert.deepEqual(hardening.verdict.advisoryIds, ["INTEL-SA-00001"]);
  assert.equal(hardening.verdict.rejection?.code, "TCB_STATUS_NOT_ACCEPTED");
  const allowed = await verify(
    { pckComponents: 4 },
    { acceptedTcbStatuses: ["SWHardeningNeeded"] },
  );
  assert.equal(allowed.verdict.accepted, true);

  const lowPce = await verify({ pckSvn: 12 });
  assert.equal(lowPce.verdict.tcbStatus, "OutOfDate");

  const qeOutdated = await verify({ qeIsvSvn: 7 });
  assert.equal(qeOutdated.verdict.tcbStatus, "OutOfDate");
  assert.deepEqual(qeOutdated.verdict.advisoryIds, ["INTEL-SA-00003"]);

  const unsupported = await verify({ pckComponents: 1 });
  assert.equal(unsupported.verdict.rejection?.code, "TCB_NOT_SUPPORTED");
  const qeUnsupported = await verify({ qeIsvSvn: 5 });
  assert.equal(qeUnsupported.verdict.rejection?.code, "TCB_NOT_SUPPORTED");
});

test("synthetic SGX collateral mismatches", async () => {
  const fmspc = await verify({ tcbInfo: { fmspc: "00906EA10001" } });
  assert.equal(fmspc.verdict.rejection?.code, "COLLATERAL_MISMATCH");
  const tdxInfo = await verify({ tcbInfo: { id: "TDX" } });
  assert.equal(tdxInfo.verdict.rejection?.code, "COLLATERAL_MISMATCH");
  const misc = await verify({ qeIdentity: { miscselect: "00000001" } });
  assert.equal(misc.verdict.rejection?.code, "QE_IDENTITY_MISMATCH");
  const tdQe = await verify({ qeIdentity: { id: "TD_QE" } });
  assert.equal(tdQe.verdict.rejection?.code, "COLLATERAL_MISMATCH");
  const pckSigned = await verify({ tcbInfoSignedByPck: true });
  assert.equal(pckSigned.verdict.rejection?.code, "CERT_CHAIN_INVALID");
  const unknownStatus = await verify({
    tcbLevels: [{ components: 5, pceSvn: 13, status: "Fine" }],
  });
  assert.equal(unknownStatus.verdict.rejection?.code, "COLLATERAL_INVALID");
});

test("synthetic SGX attested certificate", async () => {
  // A provider that makes a fresh synthetic platform and a quote for the requested key.
  let platform: Awaited<ReturnType<typeof createSyntheticSgx>> | undefined;
  const provider: EvidenceProvider = {
    kind: "sgx-dcap-quote",
    async getEvidence(reportData) {
      platform = await createSyntheticSgx({ ...base, reportData });
      return { kind: "sgx-dcap-quote", data: platform.quote };
    },
  };
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const certificate = await createAttestedCertificate({
    keyPair,
    provider,
    validityDays: 1,
    now: new Date("2025-01-14T23:00:00Z"),
  });
  const options: VerifyAttestedCertificateOptions = {
    now: SYNTHETIC_NOW,
    intelCollateral: platform!.collateral,
    trustAnchors: { intel: [platform!.root] },
    acceptedIdentities: [{ mrEnclave: platform!.mrEnclave }],
  };
  const verdict = verifyAttestedCertificate(certificate.der, options);
  assert.equal(verdict.tee, "sgx");
  assert.equal(verdict.tcbStatus, "UpToDate");
  assert.equal(verdict.reportData, Buffer.from(rawP256Point(keyPair.publicKey)).toString("hex"));

  const otherEnclave = { ...options, acceptedIdentities: [{ mrEnclave: "00".repeat(32) }] };
  assert.throws(() => verifyAttestedCertificate(certificate.der, otherEnclave), {
    code: "PERMISSION_DENIED",
  });
  const productionRoot = { ...options, trustAnchors: {} };
  assert.throws(
    () => verifyAttestedCertificate(certificate.der, productionRoot),
    (error: unknown) => {
      const cause = (error as { cause?: { code?: string } }).cause;
      return cause?.code === "UNTRUSTED_ROOT";
    },
  );
});
