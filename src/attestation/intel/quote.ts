// Parser for Intel DCAP quotes: SGX v3 and v4, TDX v4 and v5. Layouts follow Intel's "Intel
// SGX ECDSA Quote Library Reference" and "Intel TDX DCAP Quoting Library API" (quote format
// appendices).
import { ByteReader, bytesEqual } from "../bytes.ts";
import { EvidenceRejection } from "../verdict.ts";

export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
const ATTESTATION_KEY_ECDSA_P256 = 2;
const INTEL_QE_VENDOR_ID = Buffer.from("939a7233f79c4ca9940a0db3957f0607", "hex");

const HEADER_BYTES = 48;
const SGX_REPORT_BYTES = 384;
const TD10_REPORT_BYTES = 584;
const TD15_REPORT_BYTES = 648;

/** Certification data types of a quote's signature data. */
export const CERT_TYPE_PPID_CLEAR = 1;
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;

export interface QuoteHeader {
  readonly version: number;
  readonly attestationKeyType: number;
  readonly teeType: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

/** The 384-byte SGX report body, used for enclaves and for the Quoting Enclave. */
export interface SgxReportBody {
  readonly raw: Uint8Array;
  readonly cpuSvn: Uint8Array;
  /** MISCSELECT as the 4 bytes in the report (compare byte-wise with the QE identity). */
  readonly miscSelect: Uint8Array;
  readonly isvExtProdId: Uint8Array;
  /** ATTRIBUTES as the 16 bytes in the report: flags then XFRM. */
  readonly attributes: Uint8Array;
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly configId: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly isvFamilyId: Uint8Array;
  readonly reportData: Uint8Array;
}

/** The TD report body: 584 bytes for TD 1.0, 648 for TD 1.5. */
export interface TdReportBody {
  readonly raw: Uint8Array;
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  readonly teeTcbSvn2?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
}

export type QuoteBody =
  | { readonly kind: "sgx"; readonly report: SgxReportBody }
  | { readonly kind: "td10" | "td15"; readonly report: TdReportBody };

export interface CertificationData {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface Quote {
  readonly header: QuoteHeader;
  readonly body: QuoteBody;
  /** Header and body: the bytes the attestation key signs. */
  readonly signedBytes: Uint8Array;
  /** ECDSA P-256 signature as raw r‖s. */
  readonly signature: Uint8Array;
  /** Attestation public key as raw x‖y. */
  readonly attestationKey: Uint8Array;
  readonly qeReport: SgxReportBody;
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** The innermost certification data: normally type 5, the PCK chain. */
  readonly certification: CertificationData;
}

/** Parses the 384-byte SGX report body. */
export function parseSgxReportBody(raw: Uint8Array): SgxReportBody {
  if (raw.length !== SGX_REPORT_BYTES) throw new RangeError("SGX report body is not 384 bytes");
  const view = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.subarray(16, 20),
    isvExtProdId: raw.subarray(32, 48),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    configId: raw.subarray(192, 256),
    isvProdId: view.readUInt16LE(256),
    isvSvn: view.readUInt16LE(258),
    configSvn: view.readUInt16LE(260),
    isvFamilyId: raw.subarray(304, 320),
    reportData: raw.subarray(320, 384),
  };
}

function parseTdReportBody(raw: Uint8Array): TdReportBody {
  const rtmr = (index: number): Uint8Array => raw.subarray(328 + 48 * index, 376 + 48 * index);
  const body: TdReportBody = {
    raw,
    teeTcbSvn: raw.subarray(0, 16),
    mrSeam: raw.subarray(16, 64),
    mrSignerSeam: raw.subarray(64, 112),
    seamAttributes: raw.subarray(112, 120),
    tdAttributes: raw.subarray(120, 128),
    xfam: raw.subarray(128, 136),
    mrTd: raw.subarray(136, 184),
    mrConfigId: raw.subarray(184, 232),
    mrOwner: raw.subarray(232, 280),
    mrOwnerConfig: raw.subarray(280, 328),
    rtmrs: [rtmr(0), rtmr(1), rtmr(2), rtmr(3)],
    reportData: raw.subarray(520, 584),
  };
  if (raw.length === TD15_REPORT_BYTES) {
    return { ...body, teeTcbSvn2: raw.subarray(584, 600), mrServiceTd: raw.subarray(600, 648) };
  }
  return body;
}

function readBody(reader: ByteReader, header: QuoteHeader): QuoteBody {
  if (header.version === 5) {
    const bodyType = reader.u16();
    const bodySize = reader.u32();
    const expected = { 1: SGX_REPORT_BYTES, 2: TD10_REPORT_BYTES, 3: TD15_REPORT_BYTES }[bodyType];
    if (expected === undefined || expected !== bodySize) {
      throw new EvidenceRejection(
        "MALFORMED_EVIDENCE",
        `quote v5 body type ${bodyType} with size ${bodySize} is not a known pair`,
      );
    }
    const raw = reader.take(bodySize);
    const kinds = { 1: "sgx", 2: "td10", 3: "td15" } as const;
    const kind = kinds[bodyType as 1 | 2 | 3];
    if ((kind === "sgx") !== (header.teeType === TEE_TYPE_SGX)) {
      throw new EvidenceRejection("MALFORMED_EVIDENCE", "quote body type contradicts TEE type");
    }
    return kind === "sgx"
      ? { kind, report: parseSgxReportBody(raw) }
      : { kind, report: parseTdReportBody(raw) };
  }
  if (header.teeType === TEE_TYPE_SGX) {
    return { kind: "sgx", report: parseSgxReportBody(reader.take(SGX_REPORT_BYTES)) };
  }
  return { kind: "td10", report: parseTdReportBody(reader.take(TD10_REPORT_BYTES)) };
}

function readCertificationData(reader: ByteReader): CertificationData {
  const type = reader.u16();
  const size = reader.u32();
  return { type, data: reader.take(size) };
}

/**
 * Parses a DCAP quote by its length fields. Bytes after the signature data are ignored,
 * because real quotes carry padding there. Throws EvidenceRejection (MALFORMED_EVIDENCE or
 * UNSUPPORTED_EVIDENCE).
 */
export function parseQuote(bytes: Uint8Array): Quote {
  try {
    return parseQuoteUnchecked(bytes);
  } catch (error) {
    if (error instanceof EvidenceRejection) throw error;
    throw new EvidenceRejection("MALFORMED_EVIDENCE", `quote is truncated or inconsistent`, {
      cause: error,
    });
  }
}

function parseQuoteUnchecked(bytes: Uint8Array): Quote {
  const reader = new ByteReader(bytes);
  const version = reader.u16();
  const attestationKeyType = reader.u16();
  const teeType = reader.u32();
  reader.take(4); // QE SVN and PCE SVN (v3) or reserved (v4, v5): the QE report carries both.
  const qeVendorId = reader.take(16);
  const userData = reader.take(20);
  const header: QuoteHeader = { version, attestationKeyType, teeType, qeVendorId, userData };

  if (version !== 3 && version !== 4 && version !== 5) {
    throw new EvidenceRejection(
      "UNSUPPORTED_EVIDENCE",
      `quote version ${version} is not 3, 4 or 5`,
    );
  }
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) {
    throw new EvidenceRejection(
      "UNSUPPORTED_EVIDENCE",
      `attestation key type ${attestationKeyType} is not 2 (ECDSA P-256)`,
    );
  }
  if (teeType !== TEE_TYPE_SGX && teeType !== TEE_TYPE_TDX) {
    throw new EvidenceRejection("UNSUPPORTED_EVIDENCE", `TEE type 0x${teeType.toString(16)}`);
  }
  if (version === 3 && teeType !== TEE_TYPE_SGX) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "quote v3 with a TEE type other than SGX");
  }
  if (!bytesEqual(qeVendorId, INTEL_QE_VENDOR_ID)) {
    throw new EvidenceRejection("UNSUPPORTED_EVIDENCE", "QE vendor ID is not Intel's");
  }

  const body = readBody(reader, header);
  const signedBytes = bytes.subarray(0, reader.offset);
  const signatureDataLength = reader.u32();
  const signatureData = new ByteReader(reader.take(signatureDataLength));
  const signature = signatureData.take(64);
  const attestationKey = signatureData.take(64);

  let qeReader = signatureData;
  if (version !== 3) {
    const outer = readCertificationData(signatureData);
    if (outer.type !== CERT_TYPE_QE_REPORT) {
      throw new EvidenceRejection(
        "MALFORMED_EVIDENCE",
        `certification data type ${outer.type} where type 6 (QE report) is required`,
      );
    }
    qeReader = new ByteReader(outer.data);
  }
  const qeReportRaw = qeReader.take(SGX_REPORT_BYTES);
  const qeReportSignature = qeReader.take(64);
  const qeAuthData = qeReader.take(qeReader.u16());
  const certification = readCertificationData(qeReader);
  if (qeReader.offset !== qeReader.bytes.length) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "signature data length is inconsistent");
  }

  return {
    header,
    body,
    signedBytes,
    signature,
    attestationKey,
    qeReport: parseSgxReportBody(qeReportRaw),
    qeReportSignature,
    qeAuthData,
    certification,
  };
}
