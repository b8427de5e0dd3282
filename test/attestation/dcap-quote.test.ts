import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IntelCollateral } from "../../src/attestation/intel/collateral.ts";
import {
  verifyDcapQuote,
  type DcapVerifyOptions,
} from "../../src/attestation/intel/verify-quote.ts";
import type { SgxMeasurements, TdxMeasurements, Verdict } from "../../src/attestation/verdict.ts";
import {
  fixtureBytes,
  fortanixCollateral,
  goTdxGuestCollateral,
  intelSampleCollateral,
  intelSampleRoot,
  fortanixSigned as fortanixCodec,
  phalaCollateral,
} from "./fixture-collateral.ts";

interface Case {
  readonly name: string;
  readonly quote: string;
  readonly options: () => DcapVerifyOptions;
  readonly accepted: boolean;
  readonly code?: string;
  readonly tcbStatus?: string;
  readonly advisoryIds?: readonly string[];
  readonly tee: "sgx" | "tdx";
}

const lenient = {
  acceptedTcbStatuses: ["UpToDate", "SWHardeningNeeded", "ConfigurationAndSWHardeningNeeded"],
} as const;

// Every full-verification vector of the fixture README with the verdict it must give.
const cases: readonly Case[] = [
  {
    name: "phala SGX v3 accepted by a lenient policy",
    quote: "phala-dcap-qvl/sgx_quote",
    options: () => ({
      now: new Date("2025-07-19T10:01:17Z"),
      collateral: phalaCollateral("sgx_quote_collateral.json"),
      policy: lenient,
    }),
    accepted: true,
    tcbStatus: "ConfigurationAndSWHardeningNeeded",
    advisoryIds: ["INTEL-SA-00289", "INTEL-SA-00615"],
    tee: "sgx",
  },
  {
    name: "phala SGX v3 rejected by the default policy",
    quote: "phala-dcap-qvl/sgx_quote",
    options: () => ({
      now: new Date("2025-07-19T10:01:17Z"),
      collateral: phalaCollateral("sgx_quote_collateral.json"),
    }),
    accepted: false,
    code: "TCB_STATUS_NOT_ACCEPTED",
    tcbStatus: "ConfigurationAndSWHardeningNeeded",
    tee: "sgx",
  },
  {
    name: "phala SGX v3 after the collateral window",
    quote: "phala-dcap-qvl/sgx_quote",
    options: () => ({
      now: new Date("2025-07-19T10:01:19Z"),
      collateral: phalaCollateral("sgx_quote_collateral.json"),
      policy: lenient,
    }),
    accepted: false,
    code: "COLLATERAL_EXPIRED",
    tee: "sgx",
  },
  {
    name: "phala TDX v4 up to date",
    quote: "phala-dcap-qvl/tdx_quote",
    options: () => ({
      now: new Date("2025-07-19T10:00:34Z"),
      collateral: phalaCollateral("tdx_quote_collateral.json"),
    }),
    accepted: true,
    tcbStatus: "UpToDate",
    advisoryIds: [],
    tee: "tdx",
  },
  {
    name: "phala TDX v5 with no matching TCB level",
    quote: "phala-dcap-qvl/tdx_quote_outdated",
    options: () => ({
      now: new Date("2026-03-01T00:00:00Z"),
      collateral: phalaCollateral("tdx_quote_outdated_collateral.json"),
      policy: lenient,
    }),
    accepted: false,
    code: "TCB_NOT_SUPPORTED",
    tee: "tdx",
  },
  {
    name: "go-tdx-guest v4 with no matching TCB level",
    quote: "go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
    options: () => ({ now: new Date("2023-07-01T01:00:00Z"), collateral: goTdxGuestCollateral() }),
    accepted: false,
    code: "TCB_NOT_SUPPORTED",
    tee: "tdx",
  },
  {
    name: "go-tdx-guest v4 in 2053",
    quote: "go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
    options: () => ({ now: new Date("2053-07-01T00:00:00Z"), collateral: goTdxGuestCollateral() }),
    accepted: false,
    code: "CERT_EXPIRED",
    tee: "tdx",
  },
  {
    name: "go-tdx-guest v4 without collateral",
    quote: "go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
    options: () => ({ now: new Date("2023-07-01T01:00:00Z") }),
    accepted: false,
    code: "COLLATERAL_MISSING",
    tee: "tdx",
  },
  {
    name: "fortanix 2020 quote under its older root certificate",
    quote: "fortanix-rust-sgx/quote.bin",
    options: () => ({
      now: new Date("2020-05-20T00:00:00Z"),
      collateral: fortanixCollateral(),
      trustAnchors: [new X509Certificate(fixtureBytes("fortanix-rust-sgx/root_SGX_CA_der.cert"))],
      policy: { ...lenient, requireRootCaCrl: false, allowDebug: true },
    }),
    accepted: true,
    tcbStatus: "SWHardeningNeeded",
    advisoryIds: [],
    tee: "sgx",
  },
  {
    name: "fortanix 2020 quote under the pinned production key",
    quote: "fortanix-rust-sgx/quote.bin",
    options: () => ({
      now: new Date("2020-05-20T00:00:00Z"),
      collateral: fortanixCollateral(),
      policy: { ...lenient, requireRootCaCrl: false, allowDebug: true },
    }),
    accepted: true,
    tcbStatus: "SWHardeningNeeded",
    tee: "sgx",
  },
  {
    name: "fortanix debug enclave under the default policy",
    quote: "fortanix-rust-sgx/quote.bin",
    options: () => ({
      now: new Date("2020-05-20T00:00:00Z"),
      collateral: fortanixCollateral(),
      policy: { ...lenient, requireRootCaCrl: false },
    }),
    accepted: false,
    code: "DEBUG_ENABLED",
    tee: "sgx",
  },
  {
    name: "fortanix quote without a root CA CRL",
    quote: "fortanix-rust-sgx/quote.bin",
    options: () => ({
      now: new Date("2020-05-20T00:00:00Z"),
      collateral: fortanixCollateral(),
      policy: { ...lenient, allowDebug: true },
    }),
    accepted: false,
    code: "COLLATERAL_MISSING",
    tee: "sgx",
  },
  {
    name: "Intel sample SGX quote under its test root",
    quote: "intel-qvl-sampledata/sgx/quote.dat",
    options: () => ({
      now: new Date("2020-01-01T00:00:00Z"),
      collateral: intelSampleCollateral("sgx"),
      trustAnchors: [intelSampleRoot("sgx")],
      policy: { allowDebug: true },
    }),
    accepted: true,
    tcbStatus: "UpToDate",
    tee: "sgx",
  },
  {
    name: "Intel sample SGX quote under the production root",
    quote: "intel-qvl-sampledata/sgx/quote.dat",
    options: () => ({
      now: new Date("2020-01-01T00:00:00Z"),
      collateral: intelSampleCollateral("sgx"),
      policy: { allowDebug: true },
    }),
    accepted: false,
    code: "UNTRUSTED_ROOT",
    tee: "sgx",
  },
  {
    name: "Intel sample TDX quote with a foreign QE",
    quote: "intel-qvl-sampledata/tdx/quote.dat",
    options: () => ({
      now: new Date("2022-01-01T00:00:00Z"),
      collateral: intelSampleCollateral("tdx"),
      trustAnchors: [intelSampleRoot("tdx")],
    }),
    accepted: false,
    code: "QE_IDENTITY_MISMATCH",
    tee: "tdx",
  },
];

for (const testCase of cases) {
  test(`DCAP quote: ${testCase.name}`, () => {
    const verdict = verifyDcapQuote(fixtureBytes(testCase.quote), testCase.options());
    assert.equal(verdict.rejection?.code, testCase.code, verdict.rejection?.detail);
    assert.equal(verdict.accepted, testCase.accepted);
    assert.equal(verdict.tee, testCase.tee);
    assert.equal(verdict.hardwareProtected, true);
    if (testCase.tcbStatus) assert.equal(verdict.tcbStatus, testCase.tcbStatus);
    if (testCase.advisoryIds) assert.deepEqual(verdict.advisoryIds, testCase.advisoryIds);
  });
}

test("DCAP quote: SGX verdict carries measurements", () => {
  const verdict = verifyDcapQuote(fixtureBytes("phala-dcap-qvl/sgx_quote"), {
    now: new Date("2025-07-19T10:01:17Z"),
    collateral: phalaCollateral("sgx_quote_collateral.json"),
    policy: lenient,
  });
  const measurements = verdict.measurements as SgxMeasurements;
  assert.equal(
    measurements.mrEnclave,
    "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
  );
  assert.equal(
    measurements.mrSigner,
    "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6",
  );
  assert.equal(measurements.debug, false);
  const reportData = Buffer.from(verdict.reportData!, "hex");
  assert.equal(reportData.subarray(0, 13).toString(), "Hello, world!");
  assert.deepEqual(verdict.collateralWindow, {
    notBefore: "2025-06-19T10:56:11.000Z",
    notAfter: "2025-07-19T10:01:18.000Z",
  });
});

test("DCAP quote: TDX verdict carries measurements", () => {
  const verdict = verifyDcapQuote(fixtureBytes("phala-dcap-qvl/tdx_quote"), {
    now: new Date("2025-07-19T10:00:34Z"),
    collateral: phalaCollateral("tdx_quote_collateral.json"),
  });
  const measurements = verdict.measurements as TdxMeasurements;
  assert.ok(measurements.mrTd.startsWith("91eb2b44"));
  assert.ok(measurements.mrTd.endsWith("118b7"));
  assert.equal(measurements.teeTcbSvn.slice(0, 6), "060103");
  assert.equal(measurements.rtmrs.length, 4);
  assert.ok(verdict.reportData!.startsWith("9a9d48e7"));
  assert.ok(verdict.reportData!.endsWith("523f20"));
  assert.deepEqual(verdict.collateralWindow, {
    notBefore: "2025-06-19T10:32:27.000Z",
    notAfter: "2025-07-19T10:00:35.000Z",
  });
});

test("DCAP quote: policy measurement and report data checks", () => {
  const base = {
    now: new Date("2025-07-19T10:00:34Z"),
    collateral: phalaCollateral("tdx_quote_collateral.json"),
  };
  const run = (policy: DcapVerifyOptions["policy"]): Verdict =>
    verifyDcapQuote(fixtureBytes("phala-dcap-qvl/tdx_quote"), {
      ...base,
      ...(policy ? { policy } : {}),
    });
  const reportData = new Uint8Array(64);
  assert.equal(run({ mrTd: ["00".repeat(48)] }).rejection?.code, "MEASUREMENT_MISMATCH");
  assert.equal(
    run({ rtmrs: [undefined, "11".repeat(48)] }).rejection?.code,
    "MEASUREMENT_MISMATCH",
  );
  assert.equal(run({ reportData }).rejection?.code, "REPORT_DATA_MISMATCH");
  assert.equal(run({ minTcbEvaluationDataNumber: 99 }).rejection?.code, "POLICY_VIOLATION");
  const mrTd = (run(undefined).measurements as TdxMeasurements).mrTd;
  assert.equal(run({ mrTd: [mrTd.toUpperCase()] }).accepted, true);
});

test("DCAP quote: trailing padding is ignored", () => {
  const quote = fixtureBytes("phala-dcap-qvl/tdx_quote");
  const options = {
    now: new Date("2025-07-19T10:00:34Z"),
    collateral: phalaCollateral("tdx_quote_collateral.json"),
  };
  const trimmed = quote.subarray(0, quote.length - 70);
  assert.equal(verifyDcapQuote(trimmed, options).accepted, true);
  const padded = new Uint8Array(quote.length + 100);
  padded.set(quote);
  assert.equal(verifyDcapQuote(padded, options).accepted, true);
});

test("DCAP quote: CRLs in DER, PEM and hex give one verdict", () => {
  const collateral = phalaCollateral("sgx_quote_collateral.json");
  const der = Buffer.from(collateral.pckCrl as string, "hex");
  const pem = `-----BEGIN X509 CRL-----\n${der.toString("base64")}\n-----END X509 CRL-----\n`;
  for (const pckCrl of [collateral.pckCrl, new Uint8Array(der), pem]) {
    const verdict = verifyDcapQuote(fixtureBytes("phala-dcap-qvl/sgx_quote"), {
      now: new Date("2025-07-19T10:01:17Z"),
      collateral: { ...collateral, pckCrl },
      policy: lenient,
    });
    assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  }
});

function withTcbInfo(collateral: IntelCollateral, body: string): IntelCollateral {
  return { ...collateral, tcbInfo: { ...collateral.tcbInfo, body } };
}

test("DCAP quote: collateral tampering is rejected", () => {
  const collateral = phalaCollateral("sgx_quote_collateral.json");
  const options = { now: new Date("2025-07-19T10:01:17Z"), policy: lenient };
  const quote = fixtureBytes("phala-dcap-qvl/sgx_quote");
  const reformatted = JSON.stringify(JSON.parse(collateral.tcbInfo.body), null, 1);
  const edited = collateral.tcbInfo.body.replace('"issueDate":"2025', '"issueDate":"2024');
  assert.notEqual(edited, collateral.tcbInfo.body);
  const foreign = phalaCollateral("tdx_quote_collateral.json").tcbInfo;
  const flippedSignature = Uint8Array.from(collateral.qeIdentity.signature);
  flippedSignature[10]! ^= 1;
  const variants: [string, IntelCollateral, string][] = [
    ["reformatted TCB info", withTcbInfo(collateral, reformatted), "COLLATERAL_SIGNATURE_INVALID"],
    ["edited TCB info", withTcbInfo(collateral, edited), "COLLATERAL_SIGNATURE_INVALID"],
    ["TDX TCB info", { ...collateral, tcbInfo: foreign }, "COLLATERAL_MISMATCH"],
    [
      "flipped QE identity signature",
      { ...collateral, qeIdentity: { ...collateral.qeIdentity, signature: flippedSignature } },
      "COLLATERAL_SIGNATURE_INVALID",
    ],
    ["PCK CRL of another CA", { ...collateral, pckCrl: collateral.rootCaCrl! }, "CRL_INVALID"],
    ["garbage CRL", { ...collateral, pckCrl: "not a crl" }, "CRL_INVALID"],
  ];
  for (const [name, variant, code] of variants) {
    const verdict = verifyDcapQuote(quote, { ...options, collateral: variant });
    assert.equal(verdict.rejection?.code, code, name);
  }
});

test("DCAP quote: Fortanix corrupted collateral is rejected", () => {
  const collateral = fortanixCollateral();
  const options = {
    now: new Date("2020-05-20T00:00:00Z"),
    policy: { ...lenient, requireRootCaCrl: false, allowDebug: true },
  };
  const quote = fixtureBytes("fortanix-rust-sgx/quote.bin");
  const corruptedTcb = {
    ...collateral,
    tcbInfo: fortanixCodec("fortanix-rust-sgx/corrupted_00906ea10000.tcb", "raw_tcb_info"),
  };
  const corruptedQe = {
    ...collateral,
    qeIdentity: fortanixCodec(
      "fortanix-rust-sgx/corrupted_qe3_identity.id",
      "raw_enclave_identity",
    ),
  };
  for (const variant of [corruptedTcb, corruptedQe]) {
    const verdict = verifyDcapQuote(quote, { ...options, collateral: variant });
    assert.equal(verdict.rejection?.code, "COLLATERAL_SIGNATURE_INVALID");
  }
});
