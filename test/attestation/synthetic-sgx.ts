// Builds a complete, synthetic Intel SGX DCAP PKI for tests. It has a root CA, a PCK Platform
// CA, a PCK leaf with the SGX extension and a TCB signing certificate, plus signed TCB info and
// QE identity, both CRLs and a signed SGX quote (v3 or v4). The real fixtures revoke nothing
// and have no SGX v4 quote, so revocation, v4 and status convergence end to end need this.
import "reflect-metadata";
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  sign,
  webcrypto,
} from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { IntelCollateral } from "../../src/attestation/intel/collateral.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const subtle = webcrypto.subtle;
const ecdsa = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const SGX = "1.2.840.113741.1.13.1";
const QE_MRSIGNER = "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff";
export const FMSPC = "00906ea10000";

// A minimal DER encoder for the SGX extension.
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const length =
    content.length < 128
      ? [content.length]
      : content.length < 256
        ? [0x81, content.length]
        : [0x82, content.length >> 8, content.length & 0xff];
  return Uint8Array.from([tag, ...length, ...content]);
}
const sequence = (...items: Uint8Array[]): Uint8Array => tlv(0x30, Buffer.concat(items));
const octets = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
const integer = (value: number): Uint8Array =>
  tlv(0x02, value < 128 ? Uint8Array.from([value]) : Uint8Array.from([0, value]));
function oid(text: string): Uint8Array {
  const arcs = text.split(".").map(Number);
  const bytes = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups = [arc & 0x7f];
    for (let rest = arc >> 7; rest > 0; rest >>= 7) groups.unshift((rest & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

function sgxExtension(components: readonly number[], pceSvn: number): Uint8Array {
  const tcb = sequence(
    ...components.map((svn, i) => sequence(oid(`${SGX}.2.${i + 1}`), integer(svn))),
    sequence(oid(`${SGX}.2.17`), integer(pceSvn)),
    sequence(oid(`${SGX}.2.18`), octets(Uint8Array.from(components))),
  );
  return sequence(
    sequence(oid(`${SGX}.1`), octets(new Uint8Array(16).fill(1))),
    sequence(oid(`${SGX}.2`), tcb),
    sequence(oid(`${SGX}.3`), octets(new Uint8Array(2))),
    sequence(oid(`${SGX}.4`), octets(Buffer.from(FMSPC, "hex"))),
    sequence(oid(`${SGX}.5`), tlv(0x0a, Uint8Array.from([0]))),
  );
}

export interface TcbLevelSpec {
  readonly components: number;
  readonly pceSvn: number;
  readonly status: string;
  readonly advisoryIDs?: string[];
}

export interface SyntheticSgxOptions {
  readonly version: 3 | 4;
  /** The platform's 16 SGX TCB components all have this SVN. */
  readonly pckComponents: number;
  readonly pckSvn: number;
  readonly tcbLevels: readonly TcbLevelSpec[];
  readonly qeIsvSvn: number;
  readonly qeLevels: readonly { isvsvn: number; status: string; advisoryIDs?: string[] }[];
  readonly revoke?: "leaf" | "intermediate" | "tcb-signing";
  readonly reportData?: Uint8Array;
  /** Overrides of the QE identity JSON fields. */
  readonly qeIdentity?: Record<string, unknown>;
  readonly tcbInfo?: Record<string, unknown>;
  /** Sign the TCB info with the PCK leaf key (chain leaf, Platform CA, root) instead. */
  readonly tcbInfoSignedByPck?: boolean;
}

export interface SyntheticSgx {
  readonly quote: Uint8Array;
  readonly collateral: IntelCollateral;
  readonly root: X509Certificate;
  readonly mrEnclave: string;
}

type KeyPair = webcrypto.CryptoKeyPair;
const keys = async (): Promise<KeyPair> =>
  (await subtle.generateKey(ecdsa, true, ["sign", "verify"])) as KeyPair;
const validity = {
  notBefore: new Date("2024-01-01T00:00:00Z"),
  notAfter: new Date("2034-01-01T00:00:00Z"),
};
const ISSUE = "2025-01-01T00:00:00Z";
const NEXT = "2025-02-01T00:00:00Z";
/** A time inside every validity window of the synthetic collateral. */
export const SYNTHETIC_NOW = new Date("2025-01-15T00:00:00Z");

async function nodePrivateKey(pair: KeyPair) {
  return createPrivateKey({
    key: Buffer.from(await subtle.exportKey("pkcs8", pair.privateKey)),
    format: "der",
    type: "pkcs8",
  });
}

function rawSign(data: Uint8Array, key: ReturnType<typeof createPrivateKey>): Buffer {
  return sign("sha256", data, { key, dsaEncoding: "ieee-p1363" });
}

/** Creates the PKI, the signed collateral and a quote. */
export async function createSyntheticSgx(options: SyntheticSgxOptions): Promise<SyntheticSgx> {
  const [rootKeys, platformKeys, leafKeys, signingKeys] = await Promise.all([
    keys(),
    keys(),
    keys(),
    keys(),
  ]);
  const rootName = "CN=Intel SGX Root CA, O=Test";
  const platformName = "CN=Intel SGX PCK Platform CA, O=Test";
  const ca = [new x509.BasicConstraintsExtension(true, undefined, true)];
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: rootName,
    ...validity,
    keys: rootKeys,
    signingAlgorithm: ecdsa,
    extensions: ca,
  });
  const issue = (
    serialNumber: string,
    subject: string,
    issuer: string,
    publicKey: webcrypto.CryptoKey,
    signer: KeyPair,
    extensions: x509.Extension[],
  ) =>
    x509.X509CertificateGenerator.create({
      serialNumber,
      subject,
      issuer,
      ...validity,
      publicKey,
      signingKey: signer.privateKey,
      signingAlgorithm: ecdsa,
      extensions,
    });
  const platform = await issue("02", platformName, rootName, platformKeys.publicKey, rootKeys, ca);
  const components = new Array<number>(16).fill(options.pckComponents);
  const leaf = await issue(
    "03",
    "CN=Intel SGX PCK Certificate, O=Test",
    platformName,
    leafKeys.publicKey,
    platformKeys,
    [new x509.Extension(SGX, false, sgxExtension(components, options.pckSvn))],
  );
  const signing = await issue(
    "04",
    "CN=Intel SGX TCB Signing, O=Test",
    rootName,
    signingKeys.publicKey,
    rootKeys,
    [],
  );

  const crl = (issuer: string, signer: KeyPair, serial?: string) =>
    x509.X509CrlGenerator.create({
      issuer,
      thisUpdate: new Date(ISSUE),
      nextUpdate: new Date(NEXT),
      signingKey: signer.privateKey,
      signingAlgorithm: ecdsa,
      entries: serial ? [{ serialNumber: serial }] : [],
    });
  const revokedByRoot: Record<string, string> = { intermediate: "02", "tcb-signing": "04" };
  const rootCrl = await crl(rootName, rootKeys, revokedByRoot[options.revoke ?? ""]);
  const pckCrl = await crl(
    platformName,
    platformKeys,
    options.revoke === "leaf" ? "03" : undefined,
  );

  const signingKey = await nodePrivateKey(signingKeys);
  const tcbInfo = JSON.stringify({
    id: "SGX",
    version: 3,
    issueDate: ISSUE,
    nextUpdate: NEXT,
    fmspc: FMSPC.toUpperCase(),
    pceId: "0000",
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tcbLevels: options.tcbLevels.map((level) => ({
      tcb: {
        sgxtcbcomponents: new Array(16).fill(0).map(() => ({ svn: level.components })),
        pcesvn: level.pceSvn,
      },
      tcbDate: "2024-06-01T00:00:00Z",
      tcbStatus: level.status,
      ...(level.advisoryIDs ? { advisoryIDs: level.advisoryIDs } : {}),
    })),
    ...options.tcbInfo,
  });
  const qeIdentity = JSON.stringify({
    id: "QE",
    version: 2,
    issueDate: ISSUE,
    nextUpdate: NEXT,
    tcbEvaluationDataNumber: 17,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: "11000000000000000000000000000000",
    attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
    mrsigner: QE_MRSIGNER.toUpperCase(),
    isvprodid: 1,
    tcbLevels: options.qeLevels.map((level) => ({
      tcb: { isvsvn: level.isvsvn },
      tcbDate: "2024-06-01T00:00:00Z",
      tcbStatus: level.status,
      ...(level.advisoryIDs ? { advisoryIDs: level.advisoryIDs } : {}),
    })),
    ...options.qeIdentity,
  });
  const signingChain = [
    new X509Certificate(Buffer.from(signing.rawData)),
    new X509Certificate(Buffer.from(root.rawData)),
  ];

  // The quote: header, SGX report body, then the signature data.
  const attestation = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = attestation.publicKey.export({ format: "jwk" });
  const attestationKey = Buffer.concat([
    Buffer.from(jwk.x!, "base64url"),
    Buffer.from(jwk.y!, "base64url"),
  ]);
  const header = Buffer.alloc(48);
  header.writeUInt16LE(options.version, 0);
  header.writeUInt16LE(2, 2);
  Buffer.from("939a7233f79c4ca9940a0db3957f0607", "hex").copy(header, 12);
  const body = Buffer.alloc(384);
  body[48] = 0x05; // ATTRIBUTES: INIT and MODE64, not DEBUG
  const mrEnclave = createHash("sha256").update("synthetic enclave").digest();
  mrEnclave.copy(body, 64);
  if (options.reportData) body.set(options.reportData, 320);

  const authData = Buffer.from("synthetic QE authentication data");
  const qeReport = Buffer.alloc(384);
  qeReport[48] = 0x11; // ATTRIBUTES as the QE identity expects under its mask
  Buffer.from(QE_MRSIGNER, "hex").copy(qeReport, 128);
  qeReport.writeUInt16LE(1, 256);
  qeReport.writeUInt16LE(options.qeIsvSvn, 258);
  createHash("sha256").update(attestationKey).update(authData).digest().copy(qeReport, 320);
  const leafKey = await nodePrivateKey(leafKeys);
  const pem = Buffer.from(
    [leaf, platform, root].map((certificate) => certificate.toString("pem")).join("\n") + "\n\0",
  );
  const certification = (type: number, data: Buffer): Buffer => {
    const prefix = Buffer.alloc(6);
    prefix.writeUInt16LE(type, 0);
    prefix.writeUInt32LE(data.length, 2);
    return Buffer.concat([prefix, data]);
  };
  const authLength = Buffer.alloc(2);
  authLength.writeUInt16LE(authData.length);
  const qeSection = Buffer.concat([
    qeReport,
    rawSign(qeReport, leafKey),
    authLength,
    authData,
    certification(5, pem),
  ]);
  const signed = Buffer.concat([header, body]);
  const quoteSignature = rawSign(signed, attestation.privateKey);
  const signatureData = Buffer.concat([
    quoteSignature,
    attestationKey,
    options.version === 3 ? qeSection : certification(6, qeSection),
  ]);
  const signatureLength = Buffer.alloc(4);
  signatureLength.writeUInt32LE(signatureData.length);

  return {
    quote: new Uint8Array(Buffer.concat([signed, signatureLength, signatureData])),
    collateral: {
      tcbInfo: options.tcbInfoSignedByPck
        ? {
            body: tcbInfo,
            signature: rawSign(Buffer.from(tcbInfo), leafKey),
            issuerChain: [leaf, platform, root].map(
              (c) => new X509Certificate(Buffer.from(c.rawData)),
            ),
          }
        : {
            body: tcbInfo,
            signature: rawSign(Buffer.from(tcbInfo), signingKey),
            issuerChain: signingChain,
          },
      qeIdentity: {
        body: qeIdentity,
        signature: rawSign(Buffer.from(qeIdentity), signingKey),
        issuerChain: signingChain,
      },
      pckCrl: new Uint8Array(pckCrl.rawData),
      rootCaCrl: new Uint8Array(rootCrl.rawData),
    },
    root: new X509Certificate(Buffer.from(root.rawData)),
    mrEnclave: mrEnclave.toString("hex"),
  };
}
