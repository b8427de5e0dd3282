import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttestedCertificateVerifier } from "../../src/attestation/certificate/attested-certificate-verifier.ts";
import { createAttestedCertificate } from "../../src/attestation/certificate/create-attested-certificate.ts";
import { rawP256Point } from "../../src/attestation/certificate/key-binding.ts";
import {
  PEER_REJECTED_MESSAGE,
  verifyAttestedCertificate,
  type VerifyAttestedCertificateOptions,
} from "../../src/attestation/certificate/verify-attested-certificate.ts";
import {
  SimulationEvidenceProvider,
  intelCollateralFromBundle,
  measureCode,
} from "../../src/attestation/index.ts";
import type { Evidence, EvidenceProvider } from "../../src/attestation/evidence.ts";
import type { SgxMeasurements } from "../../src/attestation/verdict.ts";
import { attestationFixture, teaclaveFixture } from "../helpers/fixtures.ts";

const dcapRoot = new X509Certificate(readFileSync(teaclaveFixture("dcap_root_ca_cert.der")));
const iasRoot = new X509Certificate(readFileSync(teaclaveFixture("ias_root_ca_cert.der")));
const teaclaveV4 = new Uint8Array(readFileSync(teaclaveFixture("tls_ra_cert_v4.der")));
const teaclaveV3 = new Uint8Array(readFileSync(teaclaveFixture("tls_ra_cert_v3.der")));
const mrEnclave = "82bc195bd181ca8e3cf220f633eea98e7a0a55f3217fa7f731cf0d7a8d83253e";
const mrSigner = "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e";

// The fixture enclave runs in debug mode (ATTRIBUTES 0x07), so these tests allow debug.
const teaclaveOptions: VerifyAttestedCertificateOptions = {
  now: new Date("2022-01-18T00:00:00Z"),
  acceptedIdentities: [{ mrEnclave, mrSigner }],
  policy: { allowDebug: true },
  trustAnchors: { attestationService: [dcapRoot] },
};

/** Returns the rejection code inside the PERMISSION_DENIED error `run` throws. */
function rejectionCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    const denied = error as { code?: string; message?: string; cause?: { code?: string } };
    assert.equal(denied.code, "PERMISSION_DENIED");
    assert.equal(denied.message, PEER_REJECTED_MESSAGE);
    return denied.cause?.code;
  }
  assert.fail("verification did not fail");
}

test("Teaclave v4 certificate verifies", () => {
  const verdict = verifyAttestedCertificate(teaclaveV4, teaclaveOptions);
  assert.equal(verdict.accepted, true);
  assert.equal(verdict.tee, "sgx");
  assert.equal(verdict.tcbStatus, "UpToDate");
  const measurements = verdict.measurements as SgxMeasurements;
  assert.equal(measurements.mrEnclave, mrEnclave);
  assert.equal(measurements.mrSigner, mrSigner);
  const key = rawP256Point(new X509Certificate(teaclaveV4).publicKey);
  assert.equal(verdict.reportData, Buffer.from(key).toString("hex"));
  const fromObject = verifyAttestedCertificate(new X509Certificate(teaclaveV4), teaclaveOptions);
  assert.deepEqual(fromObject, verdict);
});

test("Teaclave v3 certificate is rejected", () => {
  const options = { ...teaclaveOptions, now: new Date("2020-03-01T00:00:00Z") };
  const withIas = { ...options, trustAnchors: { attestationService: [iasRoot, dcapRoot] } };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(teaclaveV3, withIas)),
    "UNSUPPORTED_EVIDENCE",
  );
});

test("Teaclave certificate rejections", () => {
  const cases: [string, VerifyAttestedCertificateOptions, string][] = [
    ["debug under the default policy", { ...teaclaveOptions, policy: {} }, "DEBUG_ENABLED"],
    [
      "untrusted anchor",
      { ...teaclaveOptions, trustAnchors: { attestationService: [iasRoot] } },
      "UNTRUSTED_ROOT",
    ],
    [
      "wrong measurement",
      { ...teaclaveOptions, acceptedIdentities: [{ mrEnclave: "00".repeat(32), mrSigner }] },
      "MEASUREMENT_MISMATCH",
    ],
    [
      "no accepted identity",
      { ...teaclaveOptions, acceptedIdentities: [] },
      "MEASUREMENT_MISMATCH",
    ],
    [
      "stale evidence",
      { ...teaclaveOptions, now: new Date("2022-01-18T00:00:00Z"), maxEvidenceAgeMs: 3600_000 },
      "EVIDENCE_STALE",
    ],
    [
      "expired certificate",
      { ...teaclaveOptions, now: new Date("2022-06-01T00:00:00Z") },
      "CERT_EXPIRED",
    ],
  ];
  for (const [name, options, code] of cases) {
    assert.equal(
      rejectionCode(() => verifyAttestedCertificate(teaclaveV4, options)),
      code,
      name,
    );
  }
  const flipped = Uint8Array.from(teaclaveV4);
  const reportStart = Buffer.from(flipped).indexOf('{"report":[123');
  flipped[reportStart + 12] = "4".charCodeAt(0); // report byte 123 ('{') becomes 124
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(flipped, teaclaveOptions)),
    "EVIDENCE_SIGNATURE_INVALID",
  );
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(dcapRoot.raw, teaclaveOptions)),
    "MALFORMED_EVIDENCE",
  );
});

function simulationSetup(): {
  provider: SimulationEvidenceProvider;
  keyPair: ReturnType<typeof generateKeyPairSync>;
  options: VerifyAttestedCertificateOptions;
} {
  const provider = new SimulationEvidenceProvider({
    dataDirectory: mkdtempSync(join(tmpdir(), "cloister-attested-")),
  });
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  // X.509 times have whole seconds, so verify a little after the certificates are created.
  const options: VerifyAttestedCertificateOptions = {
    now: new Date(Date.now() + 5_000),
    acceptedIdentities: [{ measurement: Buffer.from(measureCode()).toString("hex") }],
    trustAnchors: { simulation: [provider.publicKey] },
  };
  return { provider, keyPair, options };
}

test("simulated attested certificate round trip", async () => {
  const { provider, keyPair, options } = simulationSetup();
  const certificate = await createAttestedCertificate({ keyPair, provider, validityDays: 1 });
  const parsed = new X509Certificate(certificate.der);
  assert.ok(parsed.verify(keyPair.publicKey));
  const verdict = verifyAttestedCertificate(parsed, options);
  assert.equal(verdict.tee, "simulation");
  assert.equal(verdict.hardwareProtected, false);
  assert.equal(verdict.reportData, Buffer.from(rawP256Point(keyPair.publicKey)).toString("hex"));
  const extension = JSON.parse(Buffer.from(extractJson(certificate.der)).toString()) as Record<
    string,
    unknown
  >;
  assert.ok(Array.isArray(extension["report"]));
  assert.ok(Array.isArray(extension["signature"]));
  assert.ok(Array.isArray(extension["certs"]));
});

function extractJson(der: Uint8Array): Uint8Array {
  const text = Buffer.from(der);
  const start = text.indexOf('{"report":');
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === 0x7b) depth++;
    if (text[i] === 0x7d && --depth === 0) return text.subarray(start, i + 1);
  }
  throw new Error("no extension JSON");
}

test("simulated certificate rejections", async () => {
  const { provider, keyPair, options } = simulationSetup();
  const other = simulationSetup();
  const certificate = await createAttestedCertificate({ keyPair, provider, validityDays: 1 });
  const untrusted = { ...options, trustAnchors: { simulation: [other.provider.publicKey] } };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, untrusted)),
    "UNTRUSTED_ROOT",
  );
  const wrongCode = { ...options, acceptedIdentities: [{ measurement: "11".repeat(32) }] };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, wrongCode)),
    "MEASUREMENT_MISMATCH",
  );
  const later = {
    ...options,
    now: new Date(Date.now() + 3 * 3600_000),
    maxEvidenceAgeMs: 3600_000,
  };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, later)),
    "EVIDENCE_STALE",
  );

  // A provider that attests another key: the evidence verifies but binds the wrong key.
  const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const misbinding: EvidenceProvider = {
    kind: "simulation",
    getEvidence: () => provider.getEvidence(rawP256Point(otherKey.publicKey)),
  };
  const misbound = await createAttestedCertificate({
    keyPair,
    provider: misbinding,
    validityDays: 1,
  });
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(misbound.der, options)),
    "REPORT_DATA_MISMATCH",
  );
});

test("attested certificate option checks", async () => {
  const { provider } = simulationSetup();
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await assert.rejects(createAttestedCertificate({ keyPair: rsa, provider, validityDays: 1 }), {
    code: "INVALID_ARGUMENT",
  });
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  await assert.rejects(createAttestedCertificate({ keyPair, provider, validityDays: 0 }), {
    code: "INVALID_ARGUMENT",
  });
});

/** A provider that returns fixed evidence whatever report data it is asked for. */
function fixedProvider(evidence: Evidence): EvidenceProvider {
  return { kind: evidence.kind, getEvidence: async () => evidence };
}

test("TDX certificate binds the wrong key", async () => {
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const quote = new Uint8Array(readFileSync(attestationFixture("phala-dcap-qvl/tdx_quote")));
  const certificate = await createAttestedCertificate({
    keyPair,
    provider: fixedProvider({ kind: "tdx-dcap-quote", data: quote }),
    validityDays: 1,
    now: new Date("2025-07-19T10:00:00Z"),
  });
  const options: VerifyAttestedCertificateOptions = {
    now: new Date("2025-07-19T10:00:34Z"),
    acceptedIdentities: "any",
    intelCollateral: intelCollateralFromBundle(
      readFileSync(attestationFixture("phala-dcap-qvl/tdx_quote_collateral.json"), "utf8"),
    ),
  };
  // The quote itself verifies; its REPORTDATA is not SHA-512 of this certificate's key.
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, options)),
    "REPORT_DATA_MISMATCH",
  );
  const withoutCollateral = { ...options, intelCollateral: undefined } as never;
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, withoutCollateral)),
    "COLLATERAL_MISSING",
  );
});

test("SNP certificate carries its VCEK chain", async () => {
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const [ask, ark] = readFileSync(attestationFixture("go-sev-guest/ask_ark_milan.pem"), "utf8")
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!
    .map((pem) => new Uint8Array(new X509Certificate(pem).raw));
  const evidence: Evidence = {
    kind: "sev-snp-report",
    data: new Uint8Array(readFileSync(attestationFixture("go-sev-guest/attestation.bin"))),
    certificates: {
      vcek: new Uint8Array(readFileSync(attestationFixture("go-sev-guest/vcek.testcer"))),
      ask: ask!,
      ark: ark!,
    },
  };
  const certificate = await createAttestedCertificate({
    keyPair,
    provider: fixedProvider(evidence),
    validityDays: 1,
    now: new Date("2022-09-24T00:59:00Z"),
  });
  const options: VerifyAttestedCertificateOptions = {
    now: new Date("2022-09-24T01:00:00Z"),
    acceptedIdentities: "any",
    policy: { allowDebug: true },
  };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, options)),
    "REPORT_DATA_MISMATCH",
  );
  const strict = { ...options, policy: {} };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(certificate.der, strict)),
    "DEBUG_ENABLED",
  );
});

test("Teaclave certificate policy allow-list", () => {
  const options = { ...teaclaveOptions, policy: { allowDebug: true, mrSigner: ["11".repeat(32)] } };
  assert.equal(
    rejectionCode(() => verifyAttestedCertificate(teaclaveV4, options)),
    "MEASUREMENT_MISMATCH",
  );
  const matching = { ...teaclaveOptions, policy: { allowDebug: true, mrSigner: [mrSigner] } };
  assert.equal(verifyAttestedCertificate(teaclaveV4, matching).accepted, true);
});

test("invalid verification time is rejected", () => {
  const options = { ...teaclaveOptions, now: new Date("not a date") };
  assert.throws(() => verifyAttestedCertificate(teaclaveV4, options), { code: "INVALID_ARGUMENT" });
});

test("certificate verifier caches accepted verdicts", () => {
  const { now: _now, ...options } = teaclaveOptions;
  const verifier = new AttestedCertificateVerifier(options, { ttlMs: 60_000, maxEntries: 1 });
  const at = (iso: string): Date => new Date(iso);
  const first = verifier.verify(teaclaveV4, at("2022-01-18T00:00:00Z"));
  assert.equal(verifier.verify(teaclaveV4, at("2022-01-18T00:00:30Z")), first);
  const afterTtl = verifier.verify(teaclaveV4, at("2022-01-18T00:02:00Z"));
  assert.notEqual(afterTtl, first);
  assert.deepEqual({ ...afterTtl, verifiedAt: "" }, { ...first, verifiedAt: "" });
  // The evidence (2022-01-17T22:07:49Z) exceeds the 24-hour default maximum age the next day.
  assert.throws(() => verifier.verify(teaclaveV4, at("2022-01-18T22:10:00Z")), {
    code: "PERMISSION_DENIED",
  });
  const longLived = new AttestedCertificateVerifier(options, { ttlMs: 7 * 86_400_000 });
  longLived.verify(teaclaveV4, at("2022-01-18T00:00:00Z"));
  assert.throws(() => longLived.verify(teaclaveV4, at("2022-01-18T22:10:00Z")), {
    code: "PERMISSION_DENIED",
  });
  const strict = new AttestedCertificateVerifier({ ...options, policy: {} });
  assert.throws(() => strict.verify(teaclaveV4, at("2022-01-18T00:00:00Z")), {
    code: "PERMISSION_DENIED",
  });
});
