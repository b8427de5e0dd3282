import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  verifySnpReport,
  type SnpVerifyOptions,
} from "../../src/attestation/amd/verify-snp-report.ts";
import { decodeTcbVersion } from "../../src/attestation/amd/snp-report.ts";
import { parseCertificateTable } from "../../src/attestation/sources/snp-certificate-table.ts";
import { AMD_ARK_KEYS } from "../../src/attestation/trust-anchors.ts";
import type { SnpMeasurements } from "../../src/attestation/verdict.ts";
import { fixtureBytes, snpChain } from "./fixture-collateral.ts";

const report = fixtureBytes("go-sev-guest/attestation.bin");
const vek = new X509Certificate(fixtureBytes("go-sev-guest/vcek.testcer"));
const now = new Date("2022-09-24T01:00:00Z");

function options(overrides: Partial<SnpVerifyOptions> = {}): SnpVerifyOptions {
  return {
    now,
    collateral: { vek, chain: snpChain("ask_ark_milan.pem") },
    policy: { allowDebug: true },
    ...overrides,
  };
}

test("SNP Milan report verifies with its VCEK", () => {
  const verdict = verifySnpReport(report, options());
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  assert.equal(verdict.tee, "sev-snp");
  assert.equal(verdict.tcbStatus, undefined);
  const m = verdict.measurements as SnpMeasurements;
  assert.equal(
    m.measurement,
    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
  );
  assert.ok(m.chipId.startsWith("3ac3fe21e13fb099"));
  assert.equal(m.reportId, "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
  assert.equal(m.policy, "0xb0000");
  assert.equal(m.vmpl, 0);
  assert.equal(m.product, "Milan-B0");
  assert.equal(m.signingKey, "vcek");
  assert.deepEqual(m.reportedTcb, { bootloader: 2, tee: 0, snp: 5, microcode: 68 });
  assert.equal(m.debug, true);
  assert.equal(m.firmwareVersion, "1.49.3");
  assert.equal(m.platformInfo, "0x1");
  assert.equal(m.hostData, "00".repeat(32));
  assert.ok(verdict.reportData!.startsWith("0102030405000000"));
});

const rejections: readonly [string, SnpVerifyOptions, string][] = [
  ["debug guest under the default policy", options({ policy: {} }), "DEBUG_ENABLED"],
  [
    "Genoa chain",
    options({ collateral: { vek, chain: snpChain("ask_ark_genoa.pem") } }),
    "CERT_CHAIN_INVALID",
  ],
  [
    "ASVK chain for a VCEK",
    options({ collateral: { vek, chain: snpChain("ask_ark_milan_vlek.pem") } }),
    "CERT_CHAIN_INVALID",
  ],
  ["only the Genoa ARK trusted", options({ trustAnchors: [AMD_ARK_KEYS.Genoa] }), "UNTRUSTED_ROOT"],
  ["after the VCEK expired", options({ now: new Date("2030-01-01T00:00:00Z") }), "CERT_EXPIRED"],
  ["without a VCEK", { now, policy: { allowDebug: true } }, "COLLATERAL_MISSING"],
  [
    "minimum SNP SPL 6",
    options({ policy: { allowDebug: true, snpMinimumTcb: { snp: 6 } } }),
    "TCB_STATUS_NOT_ACCEPTED",
  ],
  ["VMPL 1 required", options({ policy: { allowDebug: true, vmpl: 1 } }), "POLICY_VIOLATION"],
  [
    "minimum TCB one above",
    options({ policy: { allowDebug: true, snpMinimumTcb: { bootloader: 3 } } }),
    "TCB_STATUS_NOT_ACCEPTED",
  ],
  [
    "firmware 1.50 required",
    options({ policy: { allowDebug: true, snpMinimumFirmware: { major: 1, minor: 50 } } }),
    "TCB_STATUS_NOT_ACCEPTED",
  ],
  [
    "ID block required",
    options({ policy: { allowDebug: true, snpRequireIdBlock: true } }),
    "POLICY_VIOLATION",
  ],
  [
    "platform info 0 required",
    options({ policy: { allowDebug: true, snpPlatformInfo: 0 } }),
    "POLICY_VIOLATION",
  ],
  [
    "chip ID with one byte changed",
    options({ policy: { allowDebug: true, snpChipId: "3bc3fe21e13fb099" + "0".repeat(112) } }),
    "CHIP_ID_MISMATCH",
  ],
  [
    "measurement not allowed",
    options({ policy: { allowDebug: true, measurement: ["00".repeat(48)] } }),
    "MEASUREMENT_MISMATCH",
  ],
  [
    "host data differs",
    options({ policy: { allowDebug: true, hostData: "01".repeat(32) } }),
    "MEASUREMENT_MISMATCH",
  ],
  [
    "other report data",
    options({ policy: { allowDebug: true, reportData: new Uint8Array(64) } }),
    "REPORT_DATA_MISMATCH",
  ],
];

for (const [name, opts, code] of rejections) {
  test(`SNP report rejected: ${name}`, () => {
    const verdict = verifySnpReport(report, opts);
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.rejection?.code, code, verdict.rejection?.detail);
  });
}

// Byte offset in the report, the XOR mask applied there, and the failure it must cause.
const flips: readonly [string, number, number, string][] = [
  ["version 10", 0x00, 0x08, "UNSUPPORTED_EVIDENCE"],
  ["version 3 without CPUID", 0x00, 0x01, "COLLATERAL_MISMATCH"],
  ["signature algorithm", 0x34, 0x01, "UNSUPPORTED_EVIDENCE"],
  ["report data", 0x50, 0x01, "EVIDENCE_SIGNATURE_INVALID"],
  ["measurement", 0x90, 0x01, "EVIDENCE_SIGNATURE_INVALID"],
  ["chip ID", 0x1a0, 0x01, "EVIDENCE_SIGNATURE_INVALID"],
  ["signing key VLEK", 0x48, 0x04, "SIGNING_KEY_MISMATCH"],
  ["reserved", 0x210, 0x01, "MALFORMED_EVIDENCE"],
  ["signature R", 0x2a0, 0x01, "EVIDENCE_SIGNATURE_INVALID"],
  ["signature R high bytes", 0x2a0 + 60, 0x01, "MALFORMED_EVIDENCE"],
];

for (const [name, offset, mask, code] of flips) {
  test(`SNP byte flip: ${name}`, () => {
    const copy = Uint8Array.from(report);
    copy[offset]! ^= mask;
    const verdict = verifySnpReport(copy, options());
    assert.equal(verdict.rejection?.code, code, verdict.rejection?.detail);
  });
}

test("SNP report of the wrong length is malformed", () => {
  const verdict = verifySnpReport(report.subarray(0, 1000), options());
  assert.equal(verdict.rejection?.code, "MALFORMED_EVIDENCE");
});

test("TCB_VERSION layouts per product", () => {
  const tcb = Uint8Array.from([1, 2, 3, 4, 0, 0, 5, 6]);
  assert.deepEqual(decodeTcbVersion(tcb, "Milan"), { bootloader: 1, tee: 2, snp: 5, microcode: 6 });
  assert.deepEqual(decodeTcbVersion(tcb, "Genoa"), { bootloader: 1, tee: 2, snp: 5, microcode: 6 });
  assert.deepEqual(decodeTcbVersion(tcb, "Turin"), {
    fmc: 1,
    bootloader: 2,
    tee: 3,
    snp: 4,
    microcode: 6,
  });
});

test("SNP certificate table parsing", () => {
  const vcek = Uint8Array.from([1, 2, 3]);
  const table = Buffer.alloc(24 * 2 + 3);
  // VCEK GUID 63da758d-e664-4564-adc5-f4b93be8accd in its mixed-endian byte order.
  Buffer.from("8d75da6364e66445adc5f4b93be8accd", "hex").copy(table, 0);
  table.writeUInt32LE(48, 16);
  table.writeUInt32LE(3, 20);
  Buffer.from(vcek).copy(table, 48);
  assert.deepEqual(parseCertificateTable(table), { vcek });
  const unterminated = table.subarray(0, 24);
  assert.throws(() => parseCertificateTable(unterminated), { code: "INVALID_ARGUMENT" });
  const overflowing = Buffer.from(table);
  overflowing.writeUInt32LE(100, 20);
  assert.throws(() => parseCertificateTable(overflowing), { code: "INVALID_ARGUMENT" });
});

test("SNP policy with the report's own values", () => {
  const chipId =
    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d";
  const policy = {
    allowDebug: true,
    vmpl: 0,
    snpChipId: chipId.toUpperCase(),
    snpPlatformInfo: 1,
    snpMinimumFirmware: { major: 1, minor: 49 },
    snpMinimumTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
  };
  const verdict = verifySnpReport(report, options({ policy }));
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  const extraByte = verifySnpReport(
    report,
    options({ policy: { ...policy, snpChipId: `${chipId}00` } }),
  );
  assert.equal(extraByte.rejection?.code, "CHIP_ID_MISMATCH");
});
