// The SGX extension of Intel PCK certificates (OID 1.2.840.113741.1.13.1), as specified in
// "Intel SGX PCK Certificate and Certificate Revocation List Profile Specification".
import type { X509Certificate } from "node:crypto";
import {
  decodeOid,
  decodeSmallInteger,
  findCertificateExtension,
  readDerChildren,
  readDerElement,
  type DerElement,
} from "../der.ts";
import { EvidenceRejection } from "../verdict.ts";

const SGX_EXTENSION_OID = "1.2.840.113741.1.13.1";

/** The platform facts a PCK certificate states. */
export interface PckExtension {
  readonly ppid: Uint8Array;
  /** The 16 SGX TCB component SVNs. */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  readonly cpuSvn: Uint8Array;
  /** PCE-ID as 4 hex characters, for example `0000`. */
  readonly pceId: string;
  /** FMSPC as 12 lower-case hex characters. */
  readonly fmspc: string;
  /** 0 Standard, 1 Scalable, 2 Scalable with integrity; undefined when absent. */
  readonly sgxType?: number;
}

function entries(sequence: DerElement): Map<string, DerElement> {
  const map = new Map<string, DerElement>();
  for (const pair of readDerChildren(sequence)) {
    const [oid, value] = readDerChildren(pair);
    if (oid?.tag === 0x06 && value) map.set(decodeOid(oid.content), value);
  }
  return map;
}

/** Reads the SGX extension of a PCK leaf certificate. Throws EvidenceRejection when invalid. */
export function readPckExtension(certificate: X509Certificate): PckExtension {
  try {
    const value = findCertificateExtension(certificate, SGX_EXTENSION_OID);
    if (!value) throw new Error("the PCK certificate has no SGX extension");
    const fields = entries(readDerElement(value));
    const get = (suffix: string): DerElement => {
      const field = fields.get(`${SGX_EXTENSION_OID}.${suffix}`);
      if (!field) throw new Error(`SGX extension field .${suffix} is missing`);
      return field;
    };
    const tcb = entries(get("2"));
    const tcbField = (index: number): DerElement => {
      const field = tcb.get(`${SGX_EXTENSION_OID}.2.${index}`);
      if (!field) throw new Error(`SGX extension TCB field .2.${index} is missing`);
      return field;
    };
    const sgxTcbComponents = Array.from({ length: 16 }, (_, i) =>
      decodeSmallInteger(tcbField(i + 1)),
    );
    const sgxTypeField = fields.get(`${SGX_EXTENSION_OID}.5`);
    const fmspc = get("4").content;
    const pceId = get("3").content;
    if (fmspc.length !== 6 || pceId.length !== 2) throw new Error("FMSPC or PCE-ID length");
    return {
      ppid: get("1").content,
      sgxTcbComponents,
      pceSvn: decodeSmallInteger(tcbField(17)),
      cpuSvn: tcbField(18).content,
      pceId: Buffer.from(pceId).toString("hex"),
      fmspc: Buffer.from(fmspc).toString("hex"),
      ...(sgxTypeField ? { sgxType: decodeSmallInteger(sgxTypeField) } : {}),
    };
  } catch (error) {
    throw new EvidenceRejection("CERT_CHAIN_INVALID", "PCK certificate SGX extension is invalid", {
      cause: error,
    });
  }
}
