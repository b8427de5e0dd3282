import { X509Certificate, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CloisterError } from "../../common/errors.ts";
import {
  intelCollateralFromBundle,
  parsePemCertificates,
  signedCollateralFromPcs,
  verifyEvidence,
  type Evidence,
  type EvidenceKind,
  type IntelCollateral,
  type SnpCollateral,
  type TrustAnchor,
  type VerificationPolicy,
} from "../../attestation/index.ts";

/** Exit codes: 0 accepted, 1 rejected, 2 unusable input. */
const exitRejected = 1;
const exitUnusableInput = 2;

interface EvidenceVerifyOptions {
  readonly evidence: string;
  readonly kind?: string;
  readonly at?: string;
  readonly policy?: string;
  readonly collateral?: string;
  readonly tcbInfo?: string;
  readonly qeIdentity?: string;
  readonly tcbSigningChain?: string;
  readonly pckCrl?: string;
  readonly rootCaCrl?: string;
  readonly rootCa?: string;
  readonly pckChain?: string;
  readonly vcek?: string;
  readonly certChain?: string;
  readonly snpCrl?: string;
  readonly simulationKey?: string;
}

/** Input the command cannot use; its message names the file or option and the fix. */
class InputError extends Error {}

const KINDS: Readonly<Record<string, EvidenceKind>> = {
  sgx: "sgx-dcap-quote",
  tdx: "tdx-dcap-quote",
  snp: "sev-snp-report",
  simulation: "simulation",
};

const POLICY_KEYS = new Set([
  "acceptedTcbStatuses",
  "allowDebug",
  "requireRootCaCrl",
  "minTcbEvaluationDataNumber",
  "reportData",
  "mrEnclave",
  "mrSigner",
  "isvProdId",
  "minIsvSvn",
  "mrTd",
  "rtmrs",
  "mrSeam",
  "measurement",
  "hostData",
  "vmpl",
  "snpMinimumTcb",
  "snpMinimumFirmware",
  "snpPlatformInfo",
  "snpChipId",
  "snpRequireIdBlock",
  "simulationMeasurement",
]);

function readBytes(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InputError(`${option} ${path} cannot be read (${reason}): check the path`);
  }
}

function readText(path: string, option: string): string {
  return readBytes(path, option).toString("utf8");
}

/** Reads PEM certificates, or one DER certificate, from `path`. */
function readCertificates(path: string, option: string): X509Certificate[] {
  const bytes = readBytes(path, option);
  try {
    const text = bytes.toString("latin1");
    if (text.includes("-----BEGIN")) {
      const certificates = parsePemCertificates(decodeURIComponent(text));
      if (certificates.length > 0) return certificates;
    }
    return [new X509Certificate(bytes)];
  } catch (error) {
    throw new InputError(`${option} ${path} is not a PEM or DER certificate: ${String(error)}`);
  }
}

function readPublicKey(path: string): KeyObject {
  try {
    return createPublicKey(readText(path, "--simulation-key"));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`--simulation-key ${path} is not a PEM public key: ${String(error)}`);
  }
}

/** Runs `load` and names `option` and `path` in any INVALID_ARGUMENT error it raises. */
function withFile<T>(option: string, path: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (CloisterError.is(error) && error.code === "INVALID_ARGUMENT") {
      throw new InputError(`${option} ${path}: ${error.message}`);
    }
    throw error;
  }
}

function detectKind(data: Buffer, path: string): EvidenceKind {
  if (data.length === 0x4a0 && data.readUInt32LE(0) >= 2 && data.readUInt32LE(0) <= 5) {
    return "sev-snp-report";
  }
  if (data.length >= 48 && [3, 4, 5].includes(data.readUInt16LE(0)) && data.readUInt16LE(2) === 2) {
    return data.readUInt32LE(4) === 0x81 ? "tdx-dcap-quote" : "sgx-dcap-quote";
  }
  if (data.subarray(0, 1).toString() === "{") return "simulation";
  throw new InputError(
    `--evidence ${path} is not a DCAP quote, SNP report or simulated evidence: pass --kind`,
  );
}

function parsePolicy(value: string | undefined): VerificationPolicy | undefined {
  if (value === undefined) return undefined;
  const text = value.trimStart().startsWith("{") ? value : readText(value, "--policy");
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`--policy is not valid JSON (${String(error)}): pass an object or a file`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InputError("--policy must be a JSON object");
  }
  const unknown = Object.keys(parsed).filter((key) => !POLICY_KEYS.has(key));
  if (unknown.length > 0) {
    throw new InputError(`--policy has unknown keys ${unknown.join(", ")}: see VerificationPolicy`);
  }
  const reportData = parsed["reportData"];
  if (reportData !== undefined) {
    if (typeof reportData !== "string" || !/^[0-9a-fA-F]{128}$/.test(reportData)) {
      throw new InputError("--policy reportData must be 128 hex characters (64 bytes)");
    }
    return { ...parsed, reportData: new Uint8Array(Buffer.from(reportData, "hex")) };
  }
  return parsed as VerificationPolicy;
}

function intelCollateralOf(options: EvidenceVerifyOptions): IntelCollateral {
  if (options.collateral) {
    const path = options.collateral;
    return withFile("--collateral", path, () =>
      intelCollateralFromBundle(readText(path, "--collateral")),
    );
  }
  const missing = (["tcbInfo", "qeIdentity", "tcbSigningChain", "pckCrl"] as const).filter(
    (key) => options[key] === undefined,
  );
  if (missing.length > 0) {
    const flags = missing.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new InputError(
      `a DCAP quote needs --collateral FILE, or ${flags.join(", ")} (with --root-ca-crl)`,
    );
  }
  const chain = readText(options.tcbSigningChain!, "--tcb-signing-chain");
  return {
    tcbInfo: withFile("--tcb-info", options.tcbInfo!, () =>
      signedCollateralFromPcs(readText(options.tcbInfo!, "--tcb-info"), "tcbInfo", chain),
    ),
    qeIdentity: withFile("--qe-identity", options.qeIdentity!, () =>
      signedCollateralFromPcs(
        readText(options.qeIdentity!, "--qe-identity"),
        "enclaveIdentity",
        chain,
      ),
    ),
    pckCrl: readBytes(options.pckCrl!, "--pck-crl"),
    ...(options.rootCaCrl ? { rootCaCrl: readBytes(options.rootCaCrl, "--root-ca-crl") } : {}),
    ...(options.pckChain ? { pckChain: readCertificates(options.pckChain, "--pck-chain") } : {}),
  };
}

function snpCollateralOf(options: EvidenceVerifyOptions): SnpCollateral {
  if (!options.vcek || !options.certChain) {
    throw new InputError(
      "an SNP report needs --vcek FILE (or a VLEK) and --cert-chain FILE (ASK/ASVK then ARK)",
    );
  }
  return {
    vek: readCertificates(options.vcek, "--vcek")[0]!,
    chain: readCertificates(options.certChain, "--cert-chain"),
    ...(options.snpCrl ? { crl: readBytes(options.snpCrl, "--snp-crl") } : {}),
  };
}

function verifyFile(options: EvidenceVerifyOptions): number {
  const data = readBytes(options.evidence, "--evidence");
  let kind: EvidenceKind;
  if (options.kind !== undefined) {
    const named = KINDS[options.kind];
    if (!named) throw new InputError(`--kind ${options.kind} must be sgx, tdx, snp or simulation`);
    kind = named;
  } else {
    kind = detectKind(data, options.evidence);
  }

  const now = options.at === undefined ? new Date() : new Date(options.at);
  if (Number.isNaN(now.getTime())) {
    throw new InputError(`--at ${options.at} is not an ISO 8601 time such as 2025-07-19T10:00:00Z`);
  }
  const policy = parsePolicy(options.policy);
  const rootCa: TrustAnchor[] | undefined = options.rootCa
    ? readCertificates(options.rootCa, "--root-ca")
    : undefined;

  const evidence: Evidence = { kind, data: new Uint8Array(data) };
  const isQuote = kind === "sgx-dcap-quote" || kind === "tdx-dcap-quote";
  if (kind === "simulation" && !options.simulationKey) {
    throw new InputError(
      "simulated evidence needs --simulation-key FILE (the simulation public key PEM)",
    );
  }

  const verdict = verifyEvidence(evidence, {
    now,
    ...(policy ? { policy } : {}),
    ...(isQuote ? { intelCollateral: intelCollateralOf(options) } : {}),
    ...(kind === "sev-snp-report" ? { snpCollateral: snpCollateralOf(options) } : {}),
    trustAnchors: {
      ...(rootCa && isQuote ? { intel: rootCa } : {}),
      ...(rootCa && kind === "sev-snp-report" ? { amd: rootCa } : {}),
      ...(options.simulationKey ? { simulation: [readPublicKey(options.simulationKey)] } : {}),
    },
  });
  process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  return verdict.accepted ? 0 : exitRejected;
}

/** Registers `cloister evidence verify`. */
export function registerEvidenceCommand(program: Command): void {
  const evidence = program.command("evidence").description("Work with attestation evidence");
  evidence
    .command("verify")
    .description(
      "Verify a DCAP quote, SEV-SNP report or simulated evidence offline and print the verdict as JSON",
    )
    .requiredOption("--evidence <file>", "quote, report or simulated evidence file")
    .option("--kind <kind>", "sgx, tdx, snp or simulation (default: detected from the file)")
    .option("--at <time>", "verification time, ISO 8601 (default: now)")
    .option("--policy <json-or-file>", "VerificationPolicy as JSON text or a JSON file")
    .option("--collateral <file>", "Intel collateral bundle (dcap-qvl QuoteCollateralV3 JSON)")
    .option("--tcb-info <file>", "PCS TCB info response JSON ({tcbInfo, signature})")
    .option("--qe-identity <file>", "PCS QE identity response JSON ({enclaveIdentity, signature})")
    .option("--tcb-signing-chain <file>", "TCB-Info-Issuer-Chain: PEM, URL-encoded or not")
    .option("--pck-crl <file>", "PCK CRL in DER, PEM or hex")
    .option("--root-ca-crl <file>", "Intel SGX Root CA CRL in DER, PEM or hex")
    .option("--root-ca <file>", "trusted root certificate (default: Intel's or AMD's pinned roots)")
    .option("--pck-chain <file>", "PCK chain PEM, for quotes that do not carry it")
    .option("--vcek <file>", "SEV-SNP VCEK or VLEK certificate (DER or PEM)")
    .option("--cert-chain <file>", "SEV-SNP ASK (or ASVK) and ARK, PEM")
    .option("--snp-crl <file>", "SEV-SNP: ARK-signed CRL from AMD KDS, DER or PEM")
    .option("--simulation-key <file>", "simulation attestation public key (PEM)")
    .action((options: EvidenceVerifyOptions) => {
      try {
        process.exitCode = verifyFile(options);
      } catch (error) {
        if (
          error instanceof InputError ||
          (CloisterError.is(error) && error.code === "INVALID_ARGUMENT")
        ) {
          process.stderr.write(`cloister evidence verify: ${error.message}\n`);
          process.exitCode = exitUnusableInput;
          return;
        }
        throw error;
      }
    });
}
