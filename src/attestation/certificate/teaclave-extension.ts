// The evidence extension of Apache Teaclave's attested TLS certificates (Teaclave 0.6):
// OID 2.16.840.1.113730.1.13 (Netscape Comment) whose value is the
// JSON {"report":[…],"signature":[…],"certs":[[…],…]}, every byte string written as an array
// of numbers. Cloister adds a "cloister" member for evidence that is not an attestation
// service report.
// NOTE: this relies on Teaclave's JSON parser ignoring unknown members (serde's default);
// it was not tested against a Teaclave client.
import { findCertificateExtension } from "../der.ts";
import type { EvidenceKind } from "../evidence.ts";
import { EvidenceRejection } from "../verdict.ts";

export const TEACLAVE_EXTENSION_OID = "2.16.840.1.113730.1.13";

/** The decoded extension. */
export interface AttestationExtension {
  /** Attestation service report JSON (Teaclave), simulated report JSON, or raw evidence. */
  readonly report: Uint8Array;
  readonly signature: Uint8Array;
  /** DER certificates: the report signer's chain, or the evidence's certificates. */
  readonly certs: readonly Uint8Array[];
  /** Set on Cloister evidence: the kind of `report` (absent on Teaclave's AS reports). */
  readonly evidenceKind?: EvidenceKind;
  /** True when the legacy API v3 member `signing_cert` was used instead of `certs`. */
  readonly legacySigningCert: boolean;
}

const EVIDENCE_KINDS: ReadonlySet<string> = new Set<EvidenceKind>([
  "sgx-dcap-quote",
  "tdx-dcap-quote",
  "sev-snp-report",
  "simulation",
]);

function byteArray(value: unknown, what: string): Uint8Array {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`);
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const byte: unknown = value[i];
    if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) {
      throw new Error(`${what}[${i}] is not a byte`);
    }
    bytes[i] = byte;
  }
  return bytes;
}

/** Encodes the extension value (UTF-8 JSON bytes). */
export function encodeAttestationExtension(extension: {
  report: Uint8Array;
  signature: Uint8Array;
  certs: readonly Uint8Array[];
  evidenceKind?: EvidenceKind;
}): Uint8Array {
  const json = {
    report: Array.from(extension.report),
    signature: Array.from(extension.signature),
    certs: extension.certs.map((certificate) => Array.from(certificate)),
    ...(extension.evidenceKind ? { cloister: { kind: extension.evidenceKind } } : {}),
  };
  return Buffer.from(JSON.stringify(json));
}

/** Reads the extension from a certificate. Throws EvidenceRejection (MALFORMED_EVIDENCE). */
export function readAttestationExtension(certificateDer: Uint8Array): AttestationExtension {
  try {
    const value = findCertificateExtension(certificateDer, TEACLAVE_EXTENSION_OID);
    if (!value) throw new Error("certificate has no attestation extension");
    const json = JSON.parse(Buffer.from(value).toString("utf8")) as Record<string, unknown>;
    const legacySigningCert = json["certs"] === undefined && json["signing_cert"] !== undefined;
    const certs = legacySigningCert ? [json["signing_cert"]] : json["certs"];
    if (!Array.isArray(certs)) throw new Error("certs is not an array");
    const cloister = json["cloister"] as { kind?: unknown } | undefined;
    const kind = cloister?.kind;
    if (kind !== undefined && (typeof kind !== "string" || !EVIDENCE_KINDS.has(kind))) {
      throw new Error("cloister.kind is unknown");
    }
    return {
      report: byteArray(json["report"], "report"),
      signature: byteArray(json["signature"], "signature"),
      certs: certs.map((certificate, i) => byteArray(certificate, `certs[${i}]`)),
      ...(kind ? { evidenceKind: kind as EvidenceKind } : {}),
      legacySigningCert,
    };
  } catch (error) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "attestation extension is invalid", {
      cause: error,
    });
  }
}
