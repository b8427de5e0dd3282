import { test } from "node:test";
import assert from "node:assert/strict";
import {
  verifySnpReport,
  type SnpVerifyOptions,
} from "../../src/attestation/amd/verify-snp-report.ts";
import type { SnpMeasurements } from "../../src/attestation/verdict.ts";
import { fixtureBytes } from "./fixture-collateral.ts";
import { createSyntheticSnp, type SyntheticSnp } from "./synthetic-snp.ts";

const reportData = new Uint8Array(64).fill(0x42);
const now = new Date("2025-06-01T00:00:00Z");

function optionsFor(pki: SyntheticSnp, crl = true): SnpVerifyOptions {
  return {
    now,
    collateral: {
      vek: pki.vek,
      chain: [pki.intermediate, pki.ark],
      ...(crl ? { crl: pki.crl } : {}),
    },
    trustAnchors: [pki.ark],
    policy: { reportData },
  };
}

test("synthetic Milan VLEK report verifies", async () => {
  const pki = await createSyntheticSnp({
    product: "Milan",
    kind: "vlek",
    reportedTcb: Uint8Array.from([3, 0, 0, 0, 0, 0, 8, 115]),
    certificateTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
    reportData,
  });
  const verdict = verifySnpReport(pki.report, optionsFor(pki));
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  const measurements = verdict.measurements as SnpMeasurements;
  assert.equal(measurements.signingKey, "vlek");
  assert.deepEqual(measurements.reportedTcb, { bootloader: 3, tee: 0, snp: 8, microcode: 115 });
  assert.equal(verdict.collateralWindow?.notBefore, "2025-01-01T00:00:00.000Z");
  assert.equal(verdict.collateralWindow?.notAfter, "2026-01-01T00:00:00.000Z");

  const asVcek = Uint8Array.from(pki.report);
  asVcek[0x48] = 0; // SIGNING_KEY 0 (VCEK): changes signed bytes, but the key check comes first
  assert.equal(verifySnpReport(asVcek, optionsFor(pki)).rejection?.code, "SIGNING_KEY_MISMATCH");
});

test("synthetic Turin VCEK uses the Turin layout", async () => {
  // Turin TCB_VERSION: FMC, bootloader, TEE, SNP, reserved ×3, microcode.
  const pki = await createSyntheticSnp({
    product: "Turin",
    kind: "vcek",
    reportedTcb: Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 9]),
    certificateTcb: { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 9 },
    reportData,
  });
  const verdict = verifySnpReport(pki.report, optionsFor(pki));
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  assert.deepEqual((verdict.measurements as SnpMeasurements).reportedTcb, {
    fmc: 1,
    bootloader: 2,
    tee: 3,
    snp: 4,
    microcode: 9,
  });
});

test("synthetic SNP rejections", async () => {
  const mismatched = await createSyntheticSnp({
    product: "Genoa",
    kind: "vcek",
    reportedTcb: Uint8Array.from([3, 0, 0, 0, 0, 0, 8, 115]),
    certificateTcb: { bootloader: 3, tee: 0, snp: 9, microcode: 115 },
    reportData,
  });
  assert.equal(
    verifySnpReport(mismatched.report, optionsFor(mismatched)).rejection?.code,
    "TCB_VERSION_MISMATCH",
  );

  const revoked = await createSyntheticSnp({
    product: "Genoa",
    kind: "vcek",
    reportedTcb: Uint8Array.from([3, 0, 0, 0, 0, 0, 8, 115]),
    certificateTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
    reportData,
    revokeIntermediate: true,
  });
  assert.equal(
    verifySnpReport(revoked.report, optionsFor(revoked)).rejection?.code,
    "CERT_REVOKED",
  );
  assert.equal(verifySnpReport(revoked.report, optionsFor(revoked, false)).accepted, true);
  const late = { ...optionsFor(revoked), now: new Date("2026-06-01T00:00:00Z") };
  assert.equal(verifySnpReport(revoked.report, late).rejection?.code, "COLLATERAL_EXPIRED");
  // A CRL signed by another issuer (Intel's root) must not pass as the ARK's.
  const foreignCrl = {
    ...optionsFor(revoked),
    collateral: {
      ...optionsFor(revoked).collateral!,
      crl: fixtureBytes("go-tdx-guest/rootcrl.der"),
    },
  };
  assert.equal(verifySnpReport(revoked.report, foreignCrl).rejection?.code, "CRL_INVALID");

  const wrongChip = Uint8Array.from(mismatched.report);
  wrongChip[0x188] = 0x1a; // CPUID family of Turin on a Genoa certificate
  assert.equal(
    verifySnpReport(wrongChip, optionsFor(mismatched)).rejection?.code,
    "COLLATERAL_MISMATCH",
  );
});
