import {
  chmodSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import * as fs from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GramineEvidenceProvider,
  SimulationEvidenceProvider,
  TsmEvidenceProvider,
  measureCode,
  verifyEvidence,
  type TsmFileSystem,
} from "../../src/attestation/index.ts";
import { SIMULATION_KEY_FILE } from "../../src/attestation/simulation/attestation-key.ts";
import { fixtureBytes, phalaCollateral, snpChain } from "./fixture-collateral.ts";

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), "cloister-attestation-"));
}

test("simulation key file is private", () => {
  const dataDirectory = join(temporaryDirectory(), "data");
  const first = new SimulationEvidenceProvider({ dataDirectory });
  assert.equal(statSync(join(dataDirectory, SIMULATION_KEY_FILE)).mode & 0o777, 0o600);
  assert.equal(statSync(dataDirectory).mode & 0o777, 0o700);
  const second = new SimulationEvidenceProvider({ dataDirectory });
  assert.ok(first.publicKey.equals(second.publicKey));
  chmodSync(join(dataDirectory, SIMULATION_KEY_FILE), 0o644);
  assert.throws(() => new SimulationEvidenceProvider({ dataDirectory }), {
    code: "FAILED_PRECONDITION",
  });
});

test("simulation evidence verifies with its key", async () => {
  const provider = new SimulationEvidenceProvider({ dataDirectory: temporaryDirectory() });
  const reportData = new Uint8Array(64).fill(7);
  const evidence = await provider.getEvidence(reportData);
  assert.equal(evidence.kind, "simulation");
  const now = new Date();
  const verdict = verifyEvidence(evidence, {
    now,
    trustAnchors: { simulation: [provider.publicKey] },
    policy: { reportData },
  });
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  assert.equal(verdict.tee, "simulation");
  assert.equal(verdict.hardwareProtected, false);
  assert.equal(verdict.reportData, "07".repeat(64));
  assert.deepEqual(verdict.measurements, {
    measurement: Buffer.from(measureCode()).toString("hex"),
    debug: false,
  });
  assert.ok(verdict.evidenceTime);
});

test("simulation evidence rejections", async () => {
  const provider = new SimulationEvidenceProvider({ dataDirectory: temporaryDirectory() });
  const other = new SimulationEvidenceProvider({ dataDirectory: temporaryDirectory() });
  const evidence = await provider.getEvidence(new Uint8Array(64));
  const now = new Date();
  const untrusted = verifyEvidence(evidence, {
    now,
    trustAnchors: { simulation: [other.publicKey] },
  });
  assert.equal(untrusted.rejection?.code, "UNTRUSTED_ROOT");
  assert.equal(untrusted.hardwareProtected, false);
  assert.match(untrusted.rejection?.detail ?? "", /no hardware protection/);
  const noAnchor = verifyEvidence(evidence, { now });
  assert.equal(noAnchor.rejection?.code, "UNTRUSTED_ROOT");

  const envelope = JSON.parse(Buffer.from(evidence.data).toString()) as { report: string };
  const report = Buffer.from(envelope.report, "base64")
    .toString()
    .replace('"version":4', '"version":5');
  const tampered = Buffer.from(
    JSON.stringify({ ...envelope, report: Buffer.from(report).toString("base64") }),
  );
  const forged = verifyEvidence(
    { kind: "simulation", data: tampered },
    { now, trustAnchors: { simulation: [provider.publicKey] } },
  );
  assert.equal(forged.rejection?.code, "EVIDENCE_SIGNATURE_INVALID");

  const wrongMeasurement = verifyEvidence(evidence, {
    now,
    trustAnchors: { simulation: [provider.publicKey] },
    policy: { simulationMeasurement: ["00".repeat(32)] },
  });
  assert.equal(wrongMeasurement.rejection?.code, "MEASUREMENT_MISMATCH");
  await assert.rejects(provider.getEvidence(new Uint8Array(32)), { code: "INVALID_ARGUMENT" });
});

test("code measurement follows content", () => {
  const makeTree = (content: string): string => {
    const root = temporaryDirectory();
    mkdirSync(join(root, "src", "lib"), { recursive: true });
    writeFileSync(join(root, "src", "lib", "a.ts"), content);
    writeFileSync(join(root, "src", "b.ts"), "export {};\n");
    writeFileSync(join(root, "package-lock.json"), "{}\n");
    return root;
  };
  const first = Buffer.from(measureCode(makeTree("export const a = 1;\n"))).toString("hex");
  const same = Buffer.from(measureCode(makeTree("export const a = 1;\n"))).toString("hex");
  const changed = Buffer.from(measureCode(makeTree("export const a = 2;\n"))).toString("hex");
  assert.equal(first, same);
  assert.notEqual(first, changed);
  assert.equal(first.length, 64);
});

interface FakeTsmOptions {
  readonly provider: "tdx_guest" | "sev_guest";
  readonly outblob: Uint8Array;
  readonly auxblob?: Uint8Array;
  /** Extra generation increments per inblob write, as a concurrent writer would cause. */
  readonly interference?: number;
}

/**
 * Creates a configfs-tsm stand-in over a temporary directory: mkdir creates the attributes,
 * writing inblob (exactly 64 bytes) bumps `generation`, and rmdir removes the entry.
 */
function fakeTsm(base: string, options: FakeTsmOptions): TsmFileSystem & { entries: number } {
  const errno = (code: string): Error => Object.assign(new Error(code), { code });
  const fake = {
    entries: 0,
    async mkdir(path: string) {
      await fs.mkdir(path);
      fake.entries++;
      await fs.writeFile(join(path, "provider"), `${options.provider}\n`);
      await fs.writeFile(join(path, "generation"), "0\n");
      await fs.writeFile(join(path, "outblob"), options.outblob);
      if (options.auxblob) await fs.writeFile(join(path, "auxblob"), options.auxblob);
    },
    async rmdir(path: string) {
      await fs.rm(path, { recursive: true });
      fake.entries--;
    },
    async readFile(path: string) {
      return new Uint8Array(await fs.readFile(path));
    },
    async writeFile(path: string, data: Uint8Array) {
      if (basename(path) === "inblob" && data.length !== 64) throw errno("EINVAL");
      await fs.writeFile(path, data);
      const generationPath = join(dirname(path), "generation");
      const generation = Number(await fs.readFile(generationPath, "utf8"));
      await fs.writeFile(generationPath, `${generation + 1 + (options.interference ?? 0)}\n`);
    },
  };
  return fake;
}

test("TSM provider returns a TDX quote", async () => {
  const base = temporaryDirectory();
  const quote = fixtureBytes("phala-dcap-qvl/tdx_quote");
  const fileSystem = fakeTsm(base, { provider: "tdx_guest", outblob: quote });
  const provider = await TsmEvidenceProvider.open({ baseDirectory: base, fileSystem });
  assert.equal(provider.kind, "tdx-dcap-quote");
  const reportData = quote.subarray(568, 632);
  const evidence = await provider.getEvidence(Uint8Array.from(reportData));
  assert.equal(fileSystem.entries, 0);
  const verdict = verifyEvidence(evidence, {
    now: new Date("2025-07-19T10:00:34Z"),
    intelCollateral: phalaCollateral("tdx_quote_collateral.json"),
    policy: { reportData: Uint8Array.from(reportData) },
  });
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
  await assert.rejects(provider.getEvidence(new Uint8Array(64)), { code: "INTEGRITY" });
  assert.equal(fileSystem.entries, 0);
});

test("TSM provider detects a concurrent writer", async () => {
  const base = temporaryDirectory();
  const quote = fixtureBytes("phala-dcap-qvl/tdx_quote");
  const fileSystem = fakeTsm(base, { provider: "tdx_guest", outblob: quote, interference: 1 });
  const provider = await TsmEvidenceProvider.open({ baseDirectory: base, fileSystem });
  await assert.rejects(provider.getEvidence(Uint8Array.from(quote.subarray(568, 632))), {
    code: "ABORTED",
  });
  assert.equal(fileSystem.entries, 0);
});

function certificateTable(entries: [string, Uint8Array][]): Uint8Array {
  const guidBytes = (guid: string): Buffer => {
    const hex = guid.replace(/-/g, "");
    const part = (start: number, end: number, reverse: boolean): Buffer => {
      const bytes = Buffer.from(hex.slice(start, end), "hex");
      return reverse ? bytes.reverse() : bytes;
    };
    return Buffer.concat([
      part(0, 8, true),
      part(8, 12, true),
      part(12, 16, true),
      part(16, 32, false),
    ]);
  };
  const headerBytes = 24 * (entries.length + 1);
  const header = Buffer.alloc(headerBytes);
  let offset = headerBytes;
  entries.forEach(([guid, data], i) => {
    guidBytes(guid).copy(header, i * 24);
    header.writeUInt32LE(offset, i * 24 + 16);
    header.writeUInt32LE(data.length, i * 24 + 20);
    offset += data.length;
  });
  return Buffer.concat([header, ...entries.map(([, data]) => Buffer.from(data))]);
}

test("TSM provider returns an SNP report with certificates", async () => {
  const base = temporaryDirectory();
  const report = fixtureBytes("go-sev-guest/attestation.bin");
  const chain = snpChain("ask_ark_milan.pem").map((certificate) => certificate.raw);
  const auxblob = certificateTable([
    ["63da758d-e664-4564-adc5-f4b93be8accd", fixtureBytes("go-sev-guest/vcek.testcer")],
    ["4ab7b379-bbac-4fe4-a02f-05aef327c782", chain[0]!],
    ["c0b406a4-a803-4952-9743-3fb6014cd0ae", chain[1]!],
  ]);
  const fileSystem = fakeTsm(base, { provider: "sev_guest", outblob: report, auxblob });
  const provider = await TsmEvidenceProvider.open({ baseDirectory: base, fileSystem });
  assert.equal(provider.kind, "sev-snp-report");
  const evidence = await provider.getEvidence(Uint8Array.from(report.subarray(0x50, 0x90)));
  assert.ok(evidence.certificates?.vcek);
  const verdict = verifyEvidence(evidence, {
    now: new Date("2022-09-24T01:00:00Z"),
    policy: { allowDebug: true },
  });
  assert.equal(verdict.accepted, true, verdict.rejection?.detail);
});

test("TSM provider without configfs", async () => {
  await assert.rejects(
    TsmEvidenceProvider.open({ baseDirectory: join(temporaryDirectory(), "none") }),
    {
      code: "UNAVAILABLE",
    },
  );
});

test("Gramine provider reads the quote", async () => {
  const base = temporaryDirectory();
  const quote = fixtureBytes("phala-dcap-qvl/sgx_quote");
  writeFileSync(join(base, "attestation_type"), "dcap");
  writeFileSync(join(base, "quote"), quote);
  const provider = new GramineEvidenceProvider({ baseDirectory: base });
  const reportData = Uint8Array.from(quote.subarray(368, 432));
  const evidence = await provider.getEvidence(reportData);
  assert.equal(evidence.kind, "sgx-dcap-quote");
  assert.deepEqual(new Uint8Array(readFileSync(join(base, "user_report_data"))), reportData);
  await assert.rejects(provider.getEvidence(new Uint8Array(64)), { code: "INTEGRITY" });
  writeFileSync(join(base, "attestation_type"), "none");
  await assert.rejects(provider.getEvidence(reportData), { code: "UNAVAILABLE" });
  rmSync(base, { recursive: true });
  await assert.rejects(provider.getEvidence(reportData), { code: "UNAVAILABLE" });
});

test("evidence kind must match the quote", () => {
  const verdict = verifyEvidence(
    { kind: "sgx-dcap-quote", data: fixtureBytes("phala-dcap-qvl/tdx_quote") },
    {
      now: new Date("2025-07-19T10:00:34Z"),
      intelCollateral: phalaCollateral("tdx_quote_collateral.json"),
    },
  );
  assert.equal(verdict.accepted, false);
  assert.equal(verdict.rejection?.code, "UNSUPPORTED_EVIDENCE");
});

test("TSM provider maps kernel errors", async () => {
  const base = temporaryDirectory();
  const quote = fixtureBytes("phala-dcap-qvl/tdx_quote");
  const reportData = Uint8Array.from(quote.subarray(568, 632));
  const fake = fakeTsm(base, { provider: "tdx_guest", outblob: quote });
  const failing = (errno: string): TsmFileSystem => ({
    ...fake,
    async readFile(path: string) {
      if (basename(path) === "outblob") throw Object.assign(new Error(errno), { code: errno });
      return fake.readFile(path);
    },
  });
  const expectations: [string, string][] = [
    ["EBUSY", "UNAVAILABLE"],
    ["EFBIG", "RESOURCE_EXHAUSTED"],
    ["EACCES", "PERMISSION_DENIED"],
  ];
  for (const [errno, code] of expectations) {
    const provider = await TsmEvidenceProvider.open({
      baseDirectory: base,
      fileSystem: failing(errno),
    });
    await assert.rejects(provider.getEvidence(reportData), { code }, errno);
  }
  assert.equal(fake.entries, 0);
});

test("TSM provider writes the privilege level", async () => {
  const base = temporaryDirectory();
  const report = fixtureBytes("go-sev-guest/attestation.bin");
  const fake = fakeTsm(base, { provider: "sev_guest", outblob: report });
  const written: string[] = [];
  const recording: TsmFileSystem = {
    ...fake,
    async writeFile(path: string, data: Uint8Array) {
      written.push(
        `${basename(path)}=${basename(path) === "privlevel" ? Buffer.from(data).toString().trim() : data.length}`,
      );
      return fake.writeFile(path, data);
    },
  };
  const provider = await TsmEvidenceProvider.open({
    baseDirectory: base,
    fileSystem: recording,
    privilegeLevel: 2,
  });
  const evidence = await provider.getEvidence(Uint8Array.from(report.subarray(0x50, 0x90)));
  assert.equal(evidence.kind, "sev-snp-report");
  assert.equal(evidence.certificates, undefined);
  assert.deepEqual(written, ["privlevel=2", "inblob=64"]);
});
