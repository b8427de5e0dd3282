import { test } from "node:test";
import assert from "node:assert/strict";
import { verifyDcapQuote } from "../../src/attestation/intel/verify-quote.ts";
import { fixtureBytes, goTdxGuestCollateral, phalaCollateral } from "./fixture-collateral.ts";

function patched(quote: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(quote);
  copy[offset] = value;
  return copy;
}

// go-tdx-guest's negative patches of its v4 quote (verify/verify_test.go) and the failure each
// must cause. Collateral is included, so every rejection happens before the TCB evaluation.
const goTdxGuestPatches: readonly [string, number, number, string][] = [
  ["version 3", 0x00, 3, "MALFORMED_EVIDENCE"],
  ["signature data size", 0x278, 0x10, "MALFORMED_EVIDENCE"],
  ["PCK chain bytes", 0x1343, 0x32, "CERT_CHAIN_INVALID"],
  ["root certificate signature", 0x1329, 0x32, "CERT_CHAIN_INVALID"],
  ["intermediate signature", 0xf5f, 0x32, "CERT_CHAIN_INVALID"],
  ["PCK leaf signature", 0xb77, 0x32, "CERT_CHAIN_INVALID"],
  ["header user data", 0x1e, 0x32, "EVIDENCE_SIGNATURE_INVALID"],
  ["TD report body", 0x3c, 0x32, "EVIDENCE_SIGNATURE_INVALID"],
];

for (const [name, offset, value, code] of goTdxGuestPatches) {
  test(`TDX byte patch: ${name}`, () => {
    const quote = fixtureBytes("go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
    assert.notEqual(quote[offset], value);
    const verdict = verifyDcapQuote(patched(quote, offset, value), {
      now: new Date("2023-07-01T01:00:00Z"),
      collateral: goTdxGuestCollateral(),
    });
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.rejection?.code, code, verdict.rejection?.detail);
  });
}

// Offsets in the phala SGX v3 quote: header 0..48, body 48..432, signature data length 432,
// quote signature 436, attestation key 500, QE report 564, QE report signature 948,
// QE authentication data length 1012, data from 1014.
const sgxFlips: readonly [string, number, string][] = [
  ["attestation key type", 2, "UNSUPPORTED_EVIDENCE"],
  ["QE vendor ID", 12, "UNSUPPORTED_EVIDENCE"],
  ["MRENCLAVE", 48 + 64, "EVIDENCE_SIGNATURE_INVALID"],
  ["REPORTDATA", 48 + 320, "EVIDENCE_SIGNATURE_INVALID"],
  ["quote signature", 436 + 5, "EVIDENCE_SIGNATURE_INVALID"],
  ["attestation key", 500 + 7, "EVIDENCE_SIGNATURE_INVALID"],
  ["QE report", 564 + 100, "QE_REPORT_SIGNATURE_INVALID"],
  ["QE report signature", 948 + 3, "QE_REPORT_SIGNATURE_INVALID"],
  ["QE authentication data", 1014, "QE_REPORT_BINDING_INVALID"],
];

for (const [name, offset, code] of sgxFlips) {
  test(`SGX byte flip: ${name}`, () => {
    const quote = fixtureBytes("phala-dcap-qvl/sgx_quote");
    const verdict = verifyDcapQuote(patched(quote, offset, quote[offset]! ^ 0x01), {
      now: new Date("2025-07-19T10:01:17Z"),
      collateral: phalaCollateral("sgx_quote_collateral.json"),
      policy: { acceptedTcbStatuses: ["ConfigurationAndSWHardeningNeeded"] },
    });
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.rejection?.code, code, verdict.rejection?.detail);
  });
}

test("SGX byte flip: every truncation is malformed", () => {
  const quote = fixtureBytes("phala-dcap-qvl/sgx_quote");
  for (const length of [0, 7, 47, 431, 500, 1013, 1100]) {
    const verdict = verifyDcapQuote(quote.subarray(0, length), {
      now: new Date("2025-07-19T10:01:17Z"),
    });
    assert.equal(verdict.rejection?.code, "MALFORMED_EVIDENCE", `length ${length}`);
  }
});
