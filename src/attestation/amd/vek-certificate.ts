// Extensions of AMD VCEK and VLEK certificates (arc 1.3.6.1.4.1.3704.1), from AMD's "Versioned
// Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification" (publication 57230).
import type { X509Certificate } from "node:crypto";
import { decodeSmallInteger, findCertificateExtension, readDerElement } from "../der.ts";
import { EvidenceRejection } from "../verdict.ts";
import type { SnpProduct, SnpTcbVersion } from "./snp-report.ts";

const ARC = "1.3.6.1.4.1.3704.1";

export interface VekExtensions {
  readonly kind: "vcek" | "vlek";
  /** productName, for example `Milan-B0`. */
  readonly productName: string;
  readonly product: SnpProduct;
  readonly tcb: SnpTcbVersion;
  /** hwID (VCEK only): the CHIP_ID the key belongs to. */
  readonly hwId?: Uint8Array;
}

function integerExtension(certificate: X509Certificate, suffix: string): number | undefined {
  const value = findCertificateExtension(certificate, `${ARC}.${suffix}`);
  return value ? decodeSmallInteger(readDerElement(value)) : undefined;
}

/** Reads the TCB, product and hwID extensions. Throws EvidenceRejection when they are invalid. */
export function readVekExtensions(certificate: X509Certificate): VekExtensions {
  try {
    const nameValue = findCertificateExtension(certificate, `${ARC}.2`);
    if (!nameValue) throw new Error("productName is missing");
    const productName = Buffer.from(readDerElement(nameValue).content).toString("latin1");
    const product = (["Milan", "Genoa", "Turin"] as const).find((p) => productName.startsWith(p));
    if (!product) throw new Error(`unknown product ${productName}`);
    const spl = (suffix: string): number => {
      const value = integerExtension(certificate, suffix);
      if (value === undefined) throw new Error(`SPL ${suffix} is missing`);
      return value;
    };
    const fmc = integerExtension(certificate, "3.9");
    const tcb: SnpTcbVersion = {
      bootloader: spl("3.1"),
      tee: spl("3.2"),
      snp: spl("3.3"),
      microcode: spl("3.8"),
      ...(fmc === undefined ? {} : { fmc }),
    };
    let hwId = findCertificateExtension(certificate, `${ARC}.4`);
    // Some KDS versions wrap hwID in an OCTET STRING; others store the raw bytes.
    if (hwId && hwId.length > 2 && hwId[0] === 0x04 && hwId[1] === hwId.length - 2) {
      hwId = readDerElement(hwId).content;
    }
    const cspId = findCertificateExtension(certificate, `${ARC}.5`);
    const kind = cspId !== undefined || /VLEK/.test(certificate.subject) ? "vlek" : "vcek";
    return { kind, productName, product, tcb, ...(hwId ? { hwId } : {}) };
  } catch (error) {
    throw new EvidenceRejection("CERT_CHAIN_INVALID", "VCEK/VLEK extensions are invalid", {
      cause: error,
    });
  }
}
