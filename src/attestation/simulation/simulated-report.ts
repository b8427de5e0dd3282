// Simulated evidence for development and CI. It has the shape of an IAS-style attestation
// report (the JSON Teaclave's attested certificates carry), signed with a local ECDSA P-256
// key instead of by a TEE. It gives NO hardware protection: anyone who controls the host can
// read the key and sign anything.
import {
  createHash,
  createPublicKey,
  randomBytes,
  sign,
  verify as verifySignature,
} from "node:crypto";
import { bytesEqual, toHex } from "../bytes.ts";
import { allowedBy, resolvePolicy, verificationTime, type VerificationPolicy } from "../policy.ts";
import { trustAnchorKeys, type TrustAnchor } from "../trust-anchors.ts";
import { EvidenceRejection, check, rejectionOf, type Verdict } from "../verdict.ts";
import type { SimulationKey } from "./attestation-key.ts";

/** Stated in every simulated report and verdict detail. */
export const SIMULATION_NOTICE = "simulated evidence: no hardware protection";
export const SIMULATION_QUOTE_STATUS = "SIMULATION";

const QUOTE_BODY_BYTES = 432;
/** Offsets inside the 432-byte quote body (48-byte header, then the SGX report body). */
const MR_ENCLAVE_OFFSET = 112;
const MR_SIGNER_OFFSET = 176;
const REPORT_DATA_OFFSET = 368;

/** A signed simulated report: the report JSON bytes, a DER ECDSA signature and the key. */
export interface SimulatedEvidence {
  readonly report: Uint8Array;
  readonly signature: Uint8Array;
  /** DER SubjectPublicKeyInfo of the simulation key. */
  readonly publicKey: Uint8Array;
}

/** Builds the 432-byte quote body layout that IAS reports carry (SGX quote v3 header + body). */
function quoteBody(measurement: Uint8Array, signer: Uint8Array, reportData: Uint8Array): Buffer {
  const body = Buffer.alloc(QUOTE_BODY_BYTES);
  body.writeUInt16LE(3, 0);
  body.set(measurement, MR_ENCLAVE_OFFSET);
  body.set(signer, MR_SIGNER_OFFSET);
  body.set(reportData, REPORT_DATA_OFFSET);
  return body;
}

/** Creates and signs a simulated report binding `reportData` and `measurement`. */
export function createSimulatedEvidence(
  key: SimulationKey,
  measurement: Uint8Array,
  reportData: Uint8Array,
  now: Date,
): SimulatedEvidence {
  const publicKey = key.publicKey.export({ type: "spki", format: "der" });
  const signer = createHash("sha256").update(publicKey).digest();
  const report = {
    id: randomBytes(16).toString("hex"),
    timestamp: now.toISOString(),
    version: 4,
    isvEnclaveQuoteStatus: SIMULATION_QUOTE_STATUS,
    isvEnclaveQuoteBody: quoteBody(measurement, signer, reportData).toString("base64"),
    tee: "simulation",
    hardwareProtected: false,
    notice: SIMULATION_NOTICE,
  };
  const reportBytes = Buffer.from(JSON.stringify(report));
  return {
    report: reportBytes,
    signature: sign("sha256", reportBytes, key.privateKey),
    publicKey,
  };
}

/** Encodes simulated evidence as the `data` of an Evidence of kind "simulation". */
export function encodeSimulatedEvidence(evidence: SimulatedEvidence): Uint8Array {
  const envelope = {
    report: Buffer.from(evidence.report).toString("base64"),
    signature: Buffer.from(evidence.signature).toString("base64"),
    publicKey: Buffer.from(evidence.publicKey).toString("base64"),
  };
  return Buffer.from(JSON.stringify(envelope));
}

function decodeEnvelope(data: Uint8Array): SimulatedEvidence {
  try {
    const envelope = JSON.parse(Buffer.from(data).toString("utf8")) as Record<string, string>;
    const field = (name: string): Uint8Array => {
      const value = envelope[name];
      if (typeof value !== "string") throw new Error(`${name} is missing`);
      return Buffer.from(value, "base64");
    };
    return {
      report: field("report"),
      signature: field("signature"),
      publicKey: field("publicKey"),
    };
  } catch (error) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "simulated evidence is not valid", {
      cause: error,
    });
  }
}

/** Fields of a verified simulated report. */
export interface SimulatedReportContent {
  readonly measurement: Uint8Array;
  readonly reportData: Uint8Array;
  readonly timestamp: Date;
}

/**
 * Checks the signature of simulated evidence with a trusted simulation key and returns its
 * content. Throws EvidenceRejection.
 */
export function openSimulatedEvidence(
  evidence: SimulatedEvidence,
  trustedKeys: ReadonlySet<string>,
): SimulatedReportContent {
  let publicKey;
  try {
    publicKey = createPublicKey({
      key: Buffer.from(evidence.publicKey),
      format: "der",
      type: "spki",
    });
  } catch (error) {
    throw new EvidenceRejection("MALFORMED_EVIDENCE", "simulation public key is invalid", {
      cause: error,
    });
  }
  const spki = publicKey.export({ type: "spki", format: "der" });
  const fingerprint = createHash("sha256").update(spki).digest("hex");
  check(trustedKeys.has(fingerprint), "UNTRUSTED_ROOT", "simulation key is not a trust anchor");
  check(
    verifySignature("sha256", evidence.report, publicKey, evidence.signature),
    "EVIDENCE_SIGNATURE_INVALID",
    "simulated report signature does not verify",
  );

  const report = JSON.parse(Buffer.from(evidence.report).toString("utf8")) as Record<
    string,
    unknown
  >;
  check(report["tee"] === "simulation", "MALFORMED_EVIDENCE", "report is not a simulated report");
  const body = Buffer.from(String(report["isvEnclaveQuoteBody"]), "base64");
  check(body.length === QUOTE_BODY_BYTES, "MALFORMED_EVIDENCE", "quote body is not 432 bytes");
  const signer = createHash("sha256").update(evidence.publicKey).digest();
  check(
    bytesEqual(body.subarray(MR_SIGNER_OFFSET, MR_SIGNER_OFFSET + 32), signer),
    "MALFORMED_EVIDENCE",
    "simulated MRSIGNER is not the hash of the signing key",
  );

  const timestamp = new Date(String(report["timestamp"]));
  check(!Number.isNaN(timestamp.getTime()), "MALFORMED_EVIDENCE", "report timestamp is invalid");
  return {
    measurement: body.subarray(MR_ENCLAVE_OFFSET, MR_ENCLAVE_OFFSET + 32),
    reportData: body.subarray(REPORT_DATA_OFFSET, REPORT_DATA_OFFSET + 64),
    timestamp,
  };
}

/** Options of verifySimulatedReport. */
export interface SimulationVerifyOptions {
  readonly now: Date;
  readonly policy?: VerificationPolicy;
  /** Accepted simulation keys; with none, every simulated report is rejected. */
  readonly trustAnchors: readonly TrustAnchor[];
}

/**
 * Verifies simulated evidence (Evidence data of kind "simulation"). The verdict reports
 * `tee: "simulation"` and `hardwareProtected: false` whether it accepts or not.
 */
export function verifySimulatedReport(data: Uint8Array, options: SimulationVerifyOptions): Verdict {
  verificationTime(options.now);
  const policy = resolvePolicy(options.policy);
  let content: SimulatedReportContent | undefined;
  let rejection: Verdict["rejection"];
  try {
    content = openSimulatedEvidence(decodeEnvelope(data), trustAnchorKeys(options.trustAnchors));
    check(
      policy.reportData === undefined || bytesEqual(content.reportData, policy.reportData),
      "REPORT_DATA_MISMATCH",
      "report data differs from the expected value",
    );
    check(
      allowedBy(policy.simulationMeasurement, toHex(content.measurement)),
      "MEASUREMENT_MISMATCH",
      "simulated measurement is not in the policy's allow-list",
    );
  } catch (error) {
    rejection = rejectionOf(error);
  }
  return {
    accepted: rejection === undefined,
    tee: "simulation",
    hardwareProtected: false,
    advisoryIds: [],
    ...(content
      ? {
          measurements: { measurement: toHex(content.measurement), debug: false },
          reportData: toHex(content.reportData),
          evidenceTime: content.timestamp.toISOString(),
        }
      : {}),
    verifiedAt: options.now.toISOString(),
    ...(rejection
      ? { rejection: { ...rejection, detail: `${rejection.detail} (${SIMULATION_NOTICE})` } }
      : {}),
  };
}
