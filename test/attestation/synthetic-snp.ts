// Builds a complete, synthetic AMD SEV-SNP PKI for tests: an RSA-PSS ARK and ASK (or ASVK),
// an ECDSA P-384 VCEK or VLEK with AMD's extensions, an ARK-signed CRL, and a signed report.
// The fixtures only have a Milan VCEK report, so VLEK, Turin and CRL cases need this.
import "reflect-metadata";
import { X509Certificate, createPrivateKey, sign, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const subtle = webcrypto.subtle;
const ARC = "1.3.6.1.4.1.3704.1";
const pss = { name: "RSA-PSS", saltLength: 48, hash: "SHA-384" } as const;

export interface SyntheticSnpOptions {
  readonly product: "Milan" | "Genoa" | "Turin";
  readonly kind: "vcek" | "vlek";
  /** REPORTED_TCB in the product's byte layout. */
  readonly reportedTcb: Uint8Array;
  /** SPLs written to the certificate, in TCB_VERSION field names. */
  readonly certificateTcb: {
    bootloader: number;
    tee: number;
    snp: number;
    microcode: number;
    fmc?: number;
  };
  readonly reportData: Uint8Array;
  readonly revokeIntermediate?: boolean;
}

export interface SyntheticSnp {
  readonly ark: X509Certificate;
  readonly intermediate: X509Certificate;
  readonly vek: X509Certificate;
  readonly crl: Uint8Array;
  readonly report: Uint8Array;
  readonly chipId: Uint8Array;
}

function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

function derIa5(text: string): Uint8Array {
  return Uint8Array.from([0x16, text.length, ...Buffer.from(text, "latin1")]);
}

async function rsaPssKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(
    { ...pss, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  )) as webcrypto.CryptoKeyPair;
}

let rsaKeys: Promise<[webcrypto.CryptoKeyPair, webcrypto.CryptoKeyPair]> | undefined;

const validity = {
  notBefore: new Date("2024-01-01T00:00:00Z"),
  notAfter: new Date("2034-01-01T00:00:00Z"),
};

/** Creates the PKI and a report signed by the VCEK or VLEK. */
export async function createSyntheticSnp(options: SyntheticSnpOptions): Promise<SyntheticSnp> {
  // RSA key generation dominates the cost, so every PKI of a test run shares the two RSA keys.
  rsaKeys ??= Promise.all([rsaPssKeys(), rsaPssKeys()]);
  const [arkKeys, intermediateKeys] = await rsaKeys;
  const vekKeys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const arkName = `CN=ARK-${options.product}, O=Test`;
  const intermediateName = `CN=SEV-${options.kind === "vlek" ? "VLEK-" : ""}${options.product}, O=Test`;

  const ark = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: arkName,
    ...validity,
    keys: arkKeys,
    signingAlgorithm: pss,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: "02",
    subject: intermediateName,
    issuer: arkName,
    ...validity,
    publicKey: intermediateKeys.publicKey,
    signingKey: arkKeys.privateKey,
    signingAlgorithm: pss,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });

  const chipId = options.kind === "vcek" ? new Uint8Array(64).fill(0x5c) : new Uint8Array(64);
  const tcb = options.certificateTcb;
  const extensions = [
    new x509.Extension(`${ARC}.1`, false, derInteger(1)),
    new x509.Extension(`${ARC}.2`, false, derIa5(options.product)),
    new x509.Extension(`${ARC}.3.1`, false, derInteger(tcb.bootloader)),
    new x509.Extension(`${ARC}.3.2`, false, derInteger(tcb.tee)),
    new x509.Extension(`${ARC}.3.3`, false, derInteger(tcb.snp)),
    new x509.Extension(`${ARC}.3.8`, false, derInteger(tcb.microcode)),
    ...(tcb.fmc === undefined
      ? []
      : [new x509.Extension(`${ARC}.3.9`, false, derInteger(tcb.fmc))]),
    options.kind === "vcek"
      ? new x509.Extension(`${ARC}.4`, false, chipId)
      : new x509.Extension(`${ARC}.5`, false, derIa5("CN=cloud.example")),
  ];
  const vek = await x509.X509CertificateGenerator.create({
    serialNumber: "03",
    subject: `CN=SEV-${options.kind.toUpperCase()}, O=Test`,
    issuer: intermediateName,
    ...validity,
    publicKey: vekKeys.publicKey,
    signingKey: intermediateKeys.privateKey,
    signingAlgorithm: pss,
    extensions,
  });
  const crl = await x509.X509CrlGenerator.create({
    issuer: arkName,
    thisUpdate: new Date("2025-01-01T00:00:00Z"),
    nextUpdate: new Date("2026-01-01T00:00:00Z"),
    entries: options.revokeIntermediate ? [{ serialNumber: "02" }] : [],
    signingKey: arkKeys.privateKey,
    signingAlgorithm: pss,
  });

  const report = Buffer.alloc(0x4a0);
  report.writeUInt32LE(3, 0x00); // version 3: has CPUID fields
  report.writeBigUInt64LE(0x30000n, 0x08); // SMT allowed, reserved bit 17
  report.writeUInt32LE(1, 0x34); // ECDSA P-384 with SHA-384
  report.writeUInt32LE((options.kind === "vcek" ? 0 : 1) << 2, 0x48);
  report.set(options.reportData, 0x50);
  report.set(options.reportedTcb, 0x180);
  report[0x188] = options.product === "Turin" ? 0x1a : 0x19;
  report.set(chipId, 0x1a0);
  const privateKey = createPrivateKey({
    key: Buffer.from(await subtle.exportKey("pkcs8", vekKeys.privateKey)),
    format: "der",
    type: "pkcs8",
  });
  const signature = sign("sha384", report.subarray(0, 0x2a0), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
  Buffer.from(signature.subarray(0, 48)).reverse().copy(report, 0x2a0);
  Buffer.from(signature.subarray(48, 96)).reverse().copy(report, 0x2e8);

  return {
    ark: new X509Certificate(Buffer.from(ark.rawData)),
    intermediate: new X509Certificate(Buffer.from(intermediate.rawData)),
    vek: new X509Certificate(Buffer.from(vek.rawData)),
    crl: new Uint8Array(crl.rawData),
    report: new Uint8Array(report),
    chipId,
  };
}
