// Attestation service reports as Teaclave 0.6 embeds them: the JSON of Intel's IAS API v4
// ("Attestation Service for Intel SGX API Documentation", verification report) or of
// Teaclave's DCAP reference server, which has the same shape. The steps are those of
// Teaclave's peer verifier.
import { X509Certificate, verify as verifySignature } from "node:crypto";
import { verifyCertificateChain } from "../certificate-chain.ts";
import { parseSgxReportBody, type SgxReportBody } from "../intel/quote.ts";
import { EvidenceRejection, check, type TcbStatus } from "../verdict.ts";

/** isvEnclaveQuoteStatus values and the TCB status each corresponds to. */
const QUOTE_STATUS: Readonly<Record<string, TcbStatus>> = {
  OK: "UpToDate",
  SW_HARDENING_NEEDED: "SWHardeningNeeded",
  CONFIGURATION_NEEDED: "ConfigurationNeeded",
  CONFIGURATION_AND_SW_HARDENING_NEEDED: "ConfigurationAndSWHardeningNeeded",
  GROUP_OUT_OF_DATE: "OutOfDate",
  GROUP_REVOKED: "Revoked",
  SIGNATURE_REVOKED: "Revoked",
  KEY_REVOKED: "Revoked",
};

/** isvEnclaveQuoteBody: a 48-byte quote header, then the 384-byte SGX report body. */
const QUOTE_BODY_BYTES = 432;
const QUOTE_HEADER_BYTES = 48;

export interface AttestationServiceReport {
  readonly quoteStatus: string;
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly timestamp: Date;
  readonly body: SgxReportBody;
}

/** Parses `timestamp`, which IAS writes in UTC without a zone and with up to 9 decimals. */
function parseTimestamp(value: unknown): Date {
  const match = typeof value === "string" ? /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z?$/.exec(value) : null;
  const date = match ? new Date(`${match[1]}${(match[2] ?? "").slice(0, 4)}Z`) : new Date(NaN);
  check(!Number.isNaN(date.getTime()), "MALFORMED_EVIDENCE", "report timestamp is invalid");
  return date;
}

/**
 * Verifies an attestation service report: `certs[0]` (with `certs[1..]` as intermediates)
 * chains to a trusted root, RSA PKCS#1 v1.5 with SHA-256 over the report bytes verifies, and
 * the report is API version 4. Throws EvidenceRejection.
 */
export function verifyAttestationServiceReport(
  report: Uint8Array,
  signature: Uint8Array,
  certs: readonly Uint8Array[],
  trustedRootKeys: ReadonlySet<string>,
  trustedRoots: readonly X509Certificate[],
  nowMs: number,
): AttestationServiceReport {
  let chain: X509Certificate[];
  try {
    chain = certs.map((der) => new X509Certificate(der));
  } catch (error) {
    throw new EvidenceRejection("CERT_CHAIN_INVALID", "report signer certificate is invalid", {
      cause: error,
    });
  }
  // Teaclave's servers send only the signer; complete the chain with the trusted root.
  const last = chain[chain.length - 1];
  const root = trustedRoots.find((candidate) => last && last.checkIssued(candidate));
  if (root && last !== root && !last?.checkIssued(last)) chain.push(root);
  check(
    root !== undefined || (last !== undefined && last.checkIssued(last)),
    "UNTRUSTED_ROOT",
    "no trusted root issued the report signer chain",
  );
  verifyCertificateChain({ chain, trustedRootKeys, nowMs, label: "report signer chain" });
  check(
    verifySignature("sha256", report, chain[0]!.publicKey, signature),
    "EVIDENCE_SIGNATURE_INVALID",
    "attestation report signature does not verify",
  );

  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(report).toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "attestation report is not JSON", {
      cause: error,
    });
  }
  check(
    json["version"] === 4,
    "UNSUPPORTED_EVIDENCE",
    `attestation report API version ${String(json["version"])} is not 4`,
  );
  const quoteStatus = String(json["isvEnclaveQuoteStatus"]);
  const tcbStatus = QUOTE_STATUS[quoteStatus];
  check(tcbStatus !== undefined, "TCB_STATUS_NOT_ACCEPTED", `quote status ${quoteStatus}`);
  const body = Buffer.from(String(json["isvEnclaveQuoteBody"]), "base64");
  check(body.length === QUOTE_BODY_BYTES, "MALFORMED_EVIDENCE", "quote body is not 432 bytes");
  const advisoryIds = Array.isArray(json["advisoryIDs"])
    ? json["advisoryIDs"].filter((id): id is string => typeof id === "string")
    : [];
  return {
    quoteStatus,
    tcbStatus,
    advisoryIds,
    timestamp: parseTimestamp(json["timestamp"]),
    body: parseSgxReportBody(new Uint8Array(body.subarray(QUOTE_HEADER_BYTES))),
  };
}
