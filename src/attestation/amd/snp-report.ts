// The SEV-SNP ATTESTATION_REPORT structure (1184 bytes), from AMD's "SEV Secure Nested Paging
// Firmware ABI Specification" (publication 56860), table "ATTESTATION_REPORT Structure".
import { ByteReader, isAllZero } from "../bytes.ts";
import { EvidenceRejection } from "../verdict.ts";

export const SNP_REPORT_BYTES = 0x4a0;
/** The report signs every byte before the signature. */
export const SNP_SIGNED_BYTES = 0x2a0;
const SIGNATURE_ALGORITHM_ECDSA_P384_SHA384 = 1;

export type SnpProduct = "Milan" | "Genoa" | "Turin";

/** TCB_VERSION components. `fmc` exists on Turin only. */
export interface SnpTcbVersion {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

export interface SnpFirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface SnpReport {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgorithm: number;
  readonly currentTcb: Uint8Array;
  readonly platformInfo: bigint;
  /** SIGNING_KEY, bits 4:2 of the signer info: 0 VCEK, 1 VLEK, 7 none. */
  readonly signingKey: number;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: Uint8Array;
  /** CPUID family, model and stepping (report version 3 and later). */
  readonly cpuid?: { readonly family: number; readonly model: number; readonly stepping: number };
  readonly chipId: Uint8Array;
  readonly committedTcb: Uint8Array;
  /** Firmware version running now (CURRENT_MAJOR, CURRENT_MINOR, CURRENT_BUILD). */
  readonly currentFirmware: SnpFirmwareVersion;
  readonly launchTcb: Uint8Array;
  /** ECDSA P-384 signature as big-endian r‖s (96 bytes). */
  readonly signature: Uint8Array;
}

/** POLICY bit 19: the guest may be debugged. */
export const POLICY_DEBUG = 1n << 19n;
/** POLICY bit 17: reserved, must be 1. */
export const POLICY_RESERVED_ONE = 1n << 17n;

/** Converts a 72-byte little-endian signature component to 48 big-endian bytes. */
function signatureComponent(littleEndian: Uint8Array): Uint8Array {
  if (!isAllZero(littleEndian.subarray(48))) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "SNP signature component exceeds 384 bits");
  }
  return Uint8Array.from(littleEndian.subarray(0, 48)).reverse();
}

/** Decodes a TCB_VERSION with the byte layout of `product`. */
export function decodeTcbVersion(tcb: Uint8Array, product: SnpProduct): SnpTcbVersion {
  if (product === "Turin") {
    return { fmc: tcb[0]!, bootloader: tcb[1]!, tee: tcb[2]!, snp: tcb[3]!, microcode: tcb[7]! };
  }
  return { bootloader: tcb[0]!, tee: tcb[1]!, snp: tcb[6]!, microcode: tcb[7]! };
}

/** Parses an attestation report. Throws EvidenceRejection for a malformed or unknown one. */
export function parseSnpReport(raw: Uint8Array): SnpReport {
  if (raw.length !== SNP_REPORT_BYTES) {
    throw new EvidenceRejection(
      "MALFORMED_EVIDENCE",
      `SNP report is ${raw.length} bytes, not 1184`,
    );
  }
  const view = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const reader = new ByteReader(raw);
  const version = reader.u32();
  if (version < 2 || version > 5) {
    throw new EvidenceRejection("UNSUPPORTED_EVIDENCE", `SNP report version ${version}`);
  }
  const signatureAlgorithm = view.readUInt32LE(0x34);
  if (signatureAlgorithm !== SIGNATURE_ALGORITHM_ECDSA_P384_SHA384) {
    throw new EvidenceRejection(
      "UNSUPPORTED_EVIDENCE",
      `SNP signature algorithm ${signatureAlgorithm} is not 1 (ECDSA P-384 with SHA-384)`,
    );
  }
  if (!isAllZero(raw.subarray(0x208, SNP_SIGNED_BYTES))) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "SNP report reserved bytes are not zero");
  }
  return {
    raw,
    version,
    guestSvn: view.readUInt32LE(0x04),
    policy: view.readBigUInt64LE(0x08),
    familyId: raw.subarray(0x10, 0x20),
    imageId: raw.subarray(0x20, 0x30),
    vmpl: view.readUInt32LE(0x30),
    signatureAlgorithm,
    currentTcb: raw.subarray(0x38, 0x40),
    platformInfo: view.readBigUInt64LE(0x40),
    signingKey: (view.readUInt32LE(0x48) >> 2) & 0x7,
    reportData: raw.subarray(0x50, 0x90),
    measurement: raw.subarray(0x90, 0xc0),
    hostData: raw.subarray(0xc0, 0xe0),
    idKeyDigest: raw.subarray(0xe0, 0x110),
    authorKeyDigest: raw.subarray(0x110, 0x140),
    reportId: raw.subarray(0x140, 0x160),
    reportIdMa: raw.subarray(0x160, 0x180),
    reportedTcb: raw.subarray(0x180, 0x188),
    ...(version >= 3
      ? { cpuid: { family: raw[0x188]!, model: raw[0x189]!, stepping: raw[0x18a]! } }
      : {}),
    chipId: raw.subarray(0x1a0, 0x1e0),
    committedTcb: raw.subarray(0x1e0, 0x1e8),
    currentFirmware: { build: raw[0x1e8]!, minor: raw[0x1e9]!, major: raw[0x1ea]! },
    launchTcb: raw.subarray(0x1f0, 0x1f8),
    signature: Buffer.concat([
      signatureComponent(raw.subarray(0x2a0, 0x2e8)),
      signatureComponent(raw.subarray(0x2e8, 0x330)),
    ]),
  };
}
