import "reflect-metadata";
import { type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { CloisterError } from "../../common/errors.ts";
import type { Evidence, EvidenceProvider } from "../evidence.ts";
import { bindingReportData } from "./key-binding.ts";
import { TEACLAVE_EXTENSION_OID, encodeAttestationExtension } from "./teaclave-extension.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface AttestedCertificateOptions {
  /** The TLS key pair: ECDSA P-256. */
  readonly keyPair: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
  readonly provider: EvidenceProvider;
  /** Validity in days from `now`. Teaclave uses 90. */
  readonly validityDays: number;
  /** Start of validity; default: the wall clock. */
  readonly now?: Date;
  /** Subject and issuer common name. Default "Cloister". */
  readonly commonName?: string;
}

export interface AttestedCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly evidence: Evidence;
}

/** Fields of the extension for each evidence kind (see teaclave-extension.ts). */
function extensionFields(evidence: Evidence): {
  report: Uint8Array;
  signature: Uint8Array;
  certs: Uint8Array[];
} {
  if (evidence.kind === "simulation") {
    // The envelope contains the report JSON, its signature and the simulation key's SPKI, so the
    // Teaclave fields carry those three. certs[0] is an SPKI, not a certificate: Teaclave
    // clients skip verification in simulation mode, and Cloister reads it as a key.
    const envelope = JSON.parse(Buffer.from(evidence.data).toString()) as Record<string, string>;
    const field = (name: string): Uint8Array => Buffer.from(envelope[name] ?? "", "base64");
    return { report: field("report"), signature: field("signature"), certs: [field("publicKey")] };
  }
  const certificates = evidence.certificates;
  const certs = certificates
    ? [certificates.vcek ?? certificates.vlek, certificates.ask, certificates.ark].filter(
        (certificate): certificate is Uint8Array => certificate !== undefined,
      )
    : [];
  return { report: evidence.data, signature: new Uint8Array(), certs };
}

/**
 * Creates a self-signed X.509 certificate for an ECDSA P-256 TLS key whose Teaclave-format
 * extension carries evidence bound to the key (see bindingReportData for the binding).
 */
export async function createAttestedCertificate(
  options: AttestedCertificateOptions,
): Promise<AttestedCertificate> {
  const { keyPair, provider } = options;
  if (!(options.validityDays > 0 && options.validityDays <= 825)) {
    throw new CloisterError("INVALID_ARGUMENT", "validityDays must be between 1 and 825");
  }
  if (keyPair.publicKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new CloisterError("INVALID_ARGUMENT", "keyPair must be an ECDSA P-256 key pair");
  }
  const evidence = await provider.getEvidence(bindingReportData(provider.kind, keyPair.publicKey));
  const extension = encodeAttestationExtension({
    ...extensionFields(evidence),
    evidenceKind: evidence.kind,
  });

  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const privateDer = keyPair.privateKey.export({ type: "pkcs8", format: "der" });
  const publicDer = keyPair.publicKey.export({ type: "spki", format: "der" });
  const keys = {
    privateKey: await webcrypto.subtle.importKey("pkcs8", privateDer, algorithm, false, ["sign"]),
    publicKey: await webcrypto.subtle.importKey("spki", publicDer, algorithm, true, ["verify"]),
  };
  const notBefore = options.now ?? new Date();
  const name = `CN=${options.commonName ?? "Cloister"}`;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: "01",
    subject: name,
    issuer: name,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.validityDays * 86_400_000),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [new x509.Extension(TEACLAVE_EXTENSION_OID, false, extension)],
  });
  return {
    der: new Uint8Array(certificate.rawData),
    pem: certificate.toString("pem"),
    evidence,
  };
}
