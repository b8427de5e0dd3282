import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  orderChainLeafFirst,
  parseCertificateList,
} from "../../src/attestation/certificate-chain.ts";
import { parseCrl } from "../../src/attestation/crl.ts";
import { readPckExtension } from "../../src/attestation/intel/pck-extension.ts";
import { parseQuote } from "../../src/attestation/intel/quote.ts";
import { verifyDcapQuote } from "../../src/attestation/intel/verify-quote.ts";
import type { TdxMeasurements } from "../../src/attestation/verdict.ts";
import { fixtureBytes, fixtureText } from "./fixture-collateral.ts";

// Vectors without matching collateral: signatures and the PCK chain must verify, so the only
// rejection left is the missing collateral.
const signatureOnly: readonly [string, string, string][] = [
  ["go-tdx-guest/tdx_prod_quote_SPR_E4.dat", "2023-07-01T01:00:00Z", "6363b8043668a3ad"],
  ["go-tdx-guest/quote_v5_sample.dat", "2026-02-03T01:00:00Z", ""],
  ["go-tdx-guest/ccel_cos-113-tdx-quote.dat", "2025-01-01T00:00:00Z", "dae67181"],
];

for (const [path, now, mrTdPrefix] of signatureOnly) {
  test(`signature-only vector ${path.split("/")[1]}`, () => {
    const verdict = verifyDcapQuote(fixtureBytes(path), { now: new Date(now) });
    assert.equal(verdict.rejection?.code, "COLLATERAL_MISSING", verdict.rejection?.detail);
    assert.equal(verdict.tee, "tdx");
    assert.ok(verdict.collateralWindow, "the PCK chain window is reported");
    assert.ok((verdict.measurements as TdxMeasurements).mrTd.startsWith(mrTdPrefix));
  });
}

test("COS quote measurements and padding", () => {
  const bytes = fixtureBytes("go-tdx-guest/ccel_cos-113-tdx-quote.dat");
  assert.equal(bytes.length, 8000);
  const verdict = verifyDcapQuote(bytes, { now: new Date("2025-01-01T00:00:00Z") });
  const measurements = verdict.measurements as TdxMeasurements;
  assert.ok(measurements.rtmrs[0].startsWith("3fa2f61f"));
  assert.ok(measurements.rtmrs[1].startsWith("f62dbc07"));
  assert.ok(measurements.rtmrs[2].startsWith("4969684d"));
  assert.equal(verdict.reportData, "00".repeat(64));
});

test("v5 sample fields", () => {
  const quote = parseQuote(fixtureBytes("go-tdx-guest/quote_v5_sample.dat"));
  assert.equal(quote.header.version, 5);
  assert.equal(quote.qeReport.isvSvn, 7);
  if (quote.body.kind === "sgx") assert.fail("expected a TD body");
  assert.deepEqual([...quote.body.report.teeTcbSvn.subarray(0, 3)], [0x0b, 0x01, 0x04]);
  assert.deepEqual([...quote.body.report.teeTcbSvn2!.subarray(0, 3)], [0x0d, 0x01, 0x04]);
});

test("raw TDREPORT is not a quote", () => {
  const verdict = verifyDcapQuote(fixtureBytes("go-tdx-guest/report.dat"), {
    now: new Date("2023-07-01T00:00:00Z"),
  });
  assert.equal(verdict.accepted, false);
  assert.ok(
    verdict.rejection?.code === "UNSUPPORTED_EVIDENCE" ||
      verdict.rejection?.code === "MALFORMED_EVIDENCE",
  );
});

test("Intel sample TDX chain is DER, root first", () => {
  const quote = parseQuote(fixtureBytes("intel-qvl-sampledata/tdx/quote.dat"));
  assert.equal(quote.certification.type, 5);
  const certificates = parseCertificateList(quote.certification.data);
  assert.equal(certificates.length, 3);
  const ordered = orderChainLeafFirst(certificates);
  assert.ok(ordered[2]!.checkIssued(ordered[2]!), "the root comes last");
});

test("PCK extensions of Fortanix certificates", () => {
  const pckcert = JSON.parse(fixtureText("fortanix-rust-sgx/pck_5d39f104.pckcert")) as {
    cert: string;
  };
  const pck = readPckExtension(new X509Certificate(pckcert.cert));
  assert.equal(pck.fmspc, "00906ea10000");
  assert.equal(Buffer.from(pck.ppid).toString("hex"), "8a25f84c01ee26239d190be2e9101290");
  assert.deepEqual(pck.sgxTcbComponents.slice(0, 8), [13, 13, 2, 4, 1, 128, 3, 0]);
  assert.equal(pck.pceSvn, 9);

  const quote = parseQuote(fixtureBytes("fortanix-rust-sgx/quote.bin"));
  const leaf = orderChainLeafFirst(parseCertificateList(quote.certification.data))[0]!;
  assert.equal(readPckExtension(leaf).fmspc, "00906ea10000");
});

test("root CA CRL in DER and PEM decodes alike", () => {
  const der = parseCrl(fixtureBytes("fortanix-rust-sgx/IntelSGXRootCA.der"), "DER CRL");
  const pem = parseCrl(fixtureText("fortanix-rust-sgx/IntelSGXRootCA.crl"), "PEM CRL");
  assert.equal(der.thisUpdateMs, pem.thisUpdateMs);
  assert.equal(der.nextUpdateMs, pem.nextUpdateMs);
  assert.deepEqual([...der.revokedSerials], [...pem.revokedSerials]);
  assert.equal(new Date(der.thisUpdateMs).getUTCFullYear(), 2026);
  const platform = JSON.parse(fixtureText("fortanix-rust-sgx/platform.crl")) as { crl: string };
  assert.ok(parseCrl(platform.crl, "platform CRL").revokedSerials.size > 0);
});
