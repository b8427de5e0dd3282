// Measures evidence verification (SGX and TDX DCAP quotes, an SEV-SNP report) and attested
// certificates: creation with simulated evidence, and verification per TLS connection.
// Prints one Markdown section; progress goes to stderr.
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  AttestedCertificateVerifier,
  SimulationEvidenceProvider,
  createAttestedCertificate,
  intelCollateralFromBundle,
  parsePemCertificates,
  verifyAttestedCertificate,
  verifyDcapQuote,
  verifySnpReport,
} from "../src/attestation/index.ts";
import { attestationFixture, teaclaveFixture } from "../test/helpers/fixtures.ts";

const RUNS = 300;

interface Row {
  readonly name: string;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly runs: number;
}

async function measure(name: string, runs: number, run: () => unknown): Promise<Row> {
  process.stderr.write(`bench attestation: ${name} (${runs} runs)\n`);
  for (let i = 0; i < 20; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { name, medianMs: at(0.5), p99Ms: at(0.99), runs };
}

function expectAccepted(verdict: { accepted: boolean; rejection?: { code: string } }): void {
  if (!verdict.accepted) throw new Error(`benchmark input rejected: ${verdict.rejection?.code}`);
}

const read = (path: string): Uint8Array => new Uint8Array(readFileSync(attestationFixture(path)));
const readText = (path: string): string => readFileSync(attestationFixture(path), "utf8");

const sgxQuote = read("phala-dcap-qvl/sgx_quote");
const sgxCollateral = intelCollateralFromBundle(
  readText("phala-dcap-qvl/sgx_quote_collateral.json"),
);
const sgxOptions = {
  now: new Date("2025-07-19T10:01:17Z"),
  collateral: sgxCollateral,
  policy: { acceptedTcbStatuses: ["ConfigurationAndSWHardeningNeeded" as const] },
};
const tdxQuote = read("phala-dcap-qvl/tdx_quote");
const tdxOptions = {
  now: new Date("2025-07-19T10:00:34Z"),
  collateral: intelCollateralFromBundle(readText("phala-dcap-qvl/tdx_quote_collateral.json")),
};
const snpReport = read("go-sev-guest/attestation.bin");
const snpOptions = {
  now: new Date("2022-09-24T01:00:00Z"),
  collateral: {
    vek: new X509Certificate(read("go-sev-guest/vcek.testcer")),
    chain: parsePemCertificates(readText("go-sev-guest/ask_ark_milan.pem")),
  },
  policy: { allowDebug: true },
};
expectAccepted(verifyDcapQuote(sgxQuote, sgxOptions));
expectAccepted(verifyDcapQuote(tdxQuote, tdxOptions));
expectAccepted(verifySnpReport(snpReport, snpOptions));

const provider = new SimulationEvidenceProvider({
  dataDirectory: mkdtempSync(join(tmpdir(), "cloister-bench-")),
});
const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const simulated = await createAttestedCertificate({ keyPair, provider, validityDays: 1 });
const simulatedOptions = {
  now: new Date(),
  acceptedIdentities: "any" as const,
  trustAnchors: { simulation: [provider.publicKey] },
};
const teaclaveCertificate = new Uint8Array(readFileSync(teaclaveFixture("tls_ra_cert_v4.der")));
const teaclaveOptions = {
  now: new Date("2022-01-18T00:00:00Z"),
  acceptedIdentities: "any" as const,
  policy: { allowDebug: true },
  trustAnchors: {
    attestationService: [
      new X509Certificate(readFileSync(teaclaveFixture("dcap_root_ca_cert.der"))),
    ],
  },
};

const cachedVerifier = new AttestedCertificateVerifier(teaclaveOptions);

const rows = [
  await measure("SGX quote v3 (phala sample), full collateral", RUNS, () =>
    expectAccepted(verifyDcapQuote(sgxQuote, sgxOptions)),
  ),
  await measure("TDX quote v4 (phala sample), full collateral", RUNS, () =>
    expectAccepted(verifyDcapQuote(tdxQuote, tdxOptions)),
  ),
  await measure("SEV-SNP report (Milan), VCEK chain", RUNS, () =>
    expectAccepted(verifySnpReport(snpReport, snpOptions)),
  ),
  await measure("Create attested certificate (simulation)", 100, () =>
    createAttestedCertificate({ keyPair, provider, validityDays: 1 }),
  ),
  await measure("Verify attested certificate (simulation)", RUNS, () =>
    verifyAttestedCertificate(simulated.der, simulatedOptions),
  ),
  await measure("Verify Teaclave attested certificate (v4 fixture)", RUNS, () =>
    verifyAttestedCertificate(teaclaveCertificate, teaclaveOptions),
  ),
  await measure("Verify Teaclave attested certificate, cached verdict", RUNS, () =>
    cachedVerifier.verify(teaclaveCertificate, teaclaveOptions.now),
  ),
];

const lines = [
  "## Attestation",
  "",
  "Verification time per piece of evidence and per attested certificate, single-threaded, with",
  "collateral already parsed (no network). Each row first runs 20 warm-up iterations.",
  "",
  "| Operation | Runs | Median (ms) | p99 (ms) |",
  "| --- | ---: | ---: | ---: |",
  ...rows.map(
    (row) => `| ${row.name} | ${row.runs} | ${row.medianMs.toFixed(3)} | ${row.p99Ms.toFixed(3)} |`,
  ),
  "",
  "Command: `npm run bench -- bench/attestation.bench.ts`",
  "",
];
process.stdout.write(lines.join("\n"));
