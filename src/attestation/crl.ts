// X.509 CRLs (RFC 5280 §5) as Intel's PCS and PCCS serve them: DER, PEM or hex of the DER.
import { type X509Certificate, constants, verify as verifySignature } from "node:crypto";
import {
  decodeOid,
  decodeSmallInteger,
  decodeTime,
  integerToHex,
  readDerChildren,
  readDerElement,
} from "./der.ts";
import { fromHex } from "./bytes.ts";
import { EvidenceRejection } from "./verdict.ts";

/** A decoded certificate revocation list. */
export interface Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  /** The signature AlgorithmIdentifier's parameters (RSASSA-PSS-params for RSA-PSS). */
  readonly signatureParameters?: Uint8Array;
  readonly signature: Uint8Array;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number;
  /** Revoked serial numbers as upper-case hex without leading zeros. */
  readonly revokedSerials: ReadonlySet<string>;
}

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const HASHES: Readonly<Record<string, string>> = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

/**
 * Reads the hash and salt length of RSASSA-PSS-params (RFC 4055): [0] hashAlgorithm
 * (default SHA-1, which is not accepted) and [2] saltLength (default 20).
 */
function pssParameters(parameters: Uint8Array | undefined): { hash: string; saltLength: number } {
  let hash: string | undefined;
  let saltLength = 20;
  for (const field of parameters ? readDerChildren(readDerElement(parameters)) : []) {
    const [inner] = readDerChildren(field);
    if (field.tag === 0xa0 && inner) {
      const [oid] = readDerChildren(inner);
      hash = oid ? HASHES[decodeOid(oid.content)] : undefined;
    } else if (field.tag === 0xa2 && inner) {
      saltLength = decodeSmallInteger(inner);
    }
  }
  if (!hash) throw new EvidenceRejection("CRL_INVALID", "RSA-PSS CRL without a SHA-2 hash");
  return { hash, saltLength };
}

function signatureVerifies(crl: Crl, issuer: X509Certificate): boolean {
  if (crl.signatureAlgorithm === RSASSA_PSS) {
    const { hash, saltLength } = pssParameters(crl.signatureParameters);
    const key = { key: issuer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
    return verifySignature(hash, crl.tbs, key, crl.signature);
  }
  const hash =
    crl.signatureAlgorithm === ECDSA_WITH_SHA256
      ? "sha256"
      : crl.signatureAlgorithm === ECDSA_WITH_SHA384
        ? "sha384"
        : undefined;
  return hash !== undefined && verifySignature(hash, crl.tbs, issuer.publicKey, crl.signature);
}

/** Converts DER, PEM or ASCII hex of DER to DER bytes. Returns undefined when none fits. */
export function crlToDer(input: Uint8Array | string): Uint8Array | undefined {
  const text = typeof input === "string" ? input : Buffer.from(input).toString("latin1");
  const pem = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(text);
  if (pem) return new Uint8Array(Buffer.from(pem[1]!.replace(/\s+/g, ""), "base64"));
  const hex = fromHex(text.trim());
  if (hex && hex.length > 0) return hex;
  if (typeof input !== "string" && input[0] === 0x30) return input;
  return undefined;
}

/** Decodes a CRL from DER, PEM or hex. Throws EvidenceRejection (CRL_INVALID). */
export function parseCrl(input: Uint8Array | string, label: string): Crl {
  const der = crlToDer(input);
  if (!der) throw new EvidenceRejection("CRL_INVALID", `${label} is not DER, PEM or hex`);
  try {
    const [tbsElement, algorithm, signatureBits] = readDerChildren(readDerElement(der));
    if (!tbsElement || !algorithm || signatureBits?.tag !== 0x03) throw new Error("layout");
    const fields = readDerChildren(tbsElement);
    // version is OPTIONAL: skip it when present, so index 0 is the signature algorithm.
    const offset = fields[0]?.tag === 0x02 ? 1 : 0;
    const thisUpdate = fields[offset + 2];
    const nextUpdate = fields[offset + 3];
    if (!thisUpdate || (nextUpdate?.tag !== 0x17 && nextUpdate?.tag !== 0x18)) {
      throw new Error("CRL without nextUpdate");
    }
    const revokedSerials = new Set<string>();
    const revoked = fields[offset + 4];
    if (revoked?.tag === 0x30) {
      for (const entry of readDerChildren(revoked)) {
        const serial = readDerChildren(entry)[0];
        if (serial?.tag === 0x02) revokedSerials.add(integerToHex(serial.content));
      }
    }
    const [algorithmOid, parameters] = readDerChildren(algorithm);
    return {
      der,
      tbs: tbsElement.encoded,
      signatureAlgorithm: algorithmOid ? decodeOid(algorithmOid.content) : "",
      ...(parameters?.tag === 0x30 ? { signatureParameters: parameters.encoded } : {}),
      signature: signatureBits.content.subarray(1),
      thisUpdateMs: decodeTime(thisUpdate),
      nextUpdateMs: decodeTime(nextUpdate),
      revokedSerials,
    };
  } catch (error) {
    throw new EvidenceRejection("CRL_INVALID", `${label} cannot be decoded`, { cause: error });
  }
}

/**
 * Checks that `crl` is signed by `issuer` and current at `nowMs`. Returns its validity window.
 * Accepts ECDSA (Intel's PKI) and RSASSA-PSS with SHA-2 (AMD's ARK); rejects other algorithms.
 */
export function verifyCrl(
  crl: Crl,
  issuer: X509Certificate,
  nowMs: number,
  label: string,
): { notBefore: number; notAfter: number } {
  if (!signatureVerifies(crl, issuer)) {
    throw new EvidenceRejection("CRL_INVALID", `${label} signature does not verify`);
  }
  if (nowMs < crl.thisUpdateMs || nowMs > crl.nextUpdateMs) {
    throw new EvidenceRejection(
      "COLLATERAL_EXPIRED",
      `${label} is valid only from ${new Date(crl.thisUpdateMs).toISOString()} to ${new Date(crl.nextUpdateMs).toISOString()}`,
    );
  }
  return { notBefore: crl.thisUpdateMs, notAfter: crl.nextUpdateMs };
}

/** Throws CERT_REVOKED when `crl` lists `certificate`. */
export function checkNotRevoked(crl: Crl, certificate: X509Certificate, label: string): void {
  const serial = integerToHex(Buffer.from(certificate.serialNumber, "hex"));
  if (crl.revokedSerials.has(serial)) {
    throw new EvidenceRejection("CERT_REVOKED", `${label} lists certificate serial ${serial}`);
  }
}
