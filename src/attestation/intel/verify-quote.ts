// Verification of Intel DCAP quotes: SGX v3/v4 and TDX v4/v5. The 14 numbered steps follow
// the order of Intel's Quote Verification Library (intel/SGX-TDX-DCAP-QuoteVerificationLibrary)
// and the collateral formats of the "Intel SGX and Intel TDX PCS API Specification".
import {
  createHash,
  createPublicKey,
  verify as verifySignature,
  type KeyObject,
} from "node:crypto";
import type { X509Certificate } from "node:crypto";
import { bytesEqual, isAllZero, toHex } from "../bytes.ts";
import {
  orderChainLeafFirst,
  parseCertificateList,
  verifyCertificateChain,
} from "../certificate-chain.ts";
import { checkNotRevoked } from "../crl.ts";
import {
  resolvePolicy,
  verificationTime,
  type ResolvedPolicy,
  type VerificationPolicy,
} from "../policy.ts";
import { INTEL_SGX_ROOT_CA_KEY, trustAnchorKeys, type TrustAnchor } from "../trust-anchors.ts";
import { rejectionOf, EvidenceRejection, check, type TcbStatus, type Verdict } from "../verdict.ts";
import type { IntelCollateral } from "./collateral.ts";
import { sgxMeasurements, tdxMeasurements } from "./measurements.ts";
import { readPckExtension } from "./pck-extension.ts";
import { CERT_TYPE_PCK_CHAIN, TEE_TYPE_TDX, parseQuote, type Quote } from "./quote.ts";
import { applyQuotePolicy } from "./quote-policy.ts";
import { convergeStatus, evaluateQeTcb, evaluateSgxTcb, evaluateTdxTcb } from "./tcb-evaluation.ts";
import { parseEnclaveIdentity, parseTcbInfo } from "./tcb-info.ts";
import {
  checkCollateralDates,
  hasCommonName,
  narrowWindow,
  verifyPckCrl,
  verifyRootCaCrl,
  verifySignedCollateral,
  type Window,
} from "./verify-collateral.ts";

/** Inputs of verifyDcapQuote besides the quote. */
export interface DcapVerifyOptions {
  /** The verification time. Certificates, CRLs and collateral must be valid at it. */
  readonly now: Date;
  /** Collateral; without it the verdict is a rejection with COLLATERAL_MISSING. */
  readonly collateral?: IntelCollateral;
  readonly policy?: VerificationPolicy;
  /** Accepted Intel SGX Root CA keys. Default: the production root. */
  readonly trustAnchors?: readonly TrustAnchor[];
}

const SGX_QE_IDENTITY_ID = "QE";
const TDX_QE_IDENTITY_ID = "TD_QE";

/** Builds a P-256 public key from a raw x‖y point (64 bytes). */
export function p256KeyFromRaw(point: Uint8Array): KeyObject {
  const x = Buffer.from(point.subarray(0, 32)).toString("base64url");
  const y = Buffer.from(point.subarray(32, 64)).toString("base64url");
  return createPublicKey({ key: { kty: "EC", crv: "P-256", x, y }, format: "jwk" });
}

function verifyRawEcdsa(data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  return verifySignature("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
}

function pckChainOf(quote: Quote, collateral: IntelCollateral | undefined): X509Certificate[] {
  try {
    if (quote.certification.type === CERT_TYPE_PCK_CHAIN) {
      return orderChainLeafFirst(parseCertificateList(quote.certification.data));
    }
  } catch (error) {
    throw new EvidenceRejection("CERT_CHAIN_INVALID", "PCK chain in the quote cannot be parsed", {
      cause: error,
    });
  }
  if (collateral?.pckChain) return orderChainLeafFirst(collateral.pckChain);
  throw new EvidenceRejection(
    "COLLATERAL_MISSING",
    `quote has certification data type ${quote.certification.type}, so the PCK chain must be supplied`,
  );
}

interface Progress {
  quote?: Quote;
  tcbStatus?: TcbStatus;
  advisoryIds: readonly string[];
  window?: Window;
}

/**
 * Verifies an SGX or TDX DCAP quote against its collateral at `options.now` and applies the
 * policy. Bad evidence or collateral gives a rejected verdict; only unusable options (an
 * invalid `now`, policy or trust anchor) throw CloisterError INVALID_ARGUMENT.
 */
export function verifyDcapQuote(bytes: Uint8Array, options: DcapVerifyOptions): Verdict {
  verificationTime(options.now);
  const progress: Progress = { advisoryIds: [] };
  const policy = resolvePolicy(options.policy);
  let rejection: Verdict["rejection"];
  try {
    runSteps(bytes, options, policy, progress);
  } catch (error) {
    rejection = rejectionOf(error);
  }
  const quote = progress.quote;
  const body = quote?.body;
  return {
    accepted: rejection === undefined,
    tee: teeTypeOf(bytes) === TEE_TYPE_TDX ? "tdx" : "sgx",
    hardwareProtected: true,
    ...(progress.tcbStatus ? { tcbStatus: progress.tcbStatus } : {}),
    advisoryIds: progress.advisoryIds,
    ...(body
      ? {
          measurements:
            body.kind === "sgx" ? sgxMeasurements(body.report) : tdxMeasurements(body.report),
          reportData: toHex(body.report.reportData),
        }
      : {}),
    ...(progress.window &&
    Number.isFinite(progress.window.notBefore) &&
    Number.isFinite(progress.window.notAfter)
      ? {
          collateralWindow: {
            notBefore: new Date(progress.window.notBefore).toISOString(),
            notAfter: new Date(progress.window.notAfter).toISOString(),
          },
        }
      : {}),
    verifiedAt: options.now.toISOString(),
    ...(rejection ? { rejection } : {}),
  };
}

function runSteps(
  bytes: Uint8Array,
  options: DcapVerifyOptions,
  policy: ResolvedPolicy,
  progress: Progress,
): void {
  const nowMs = options.now.getTime();
  const trustedRootKeys = trustAnchorKeys(options.trustAnchors ?? [INTEL_SGX_ROOT_CA_KEY]);
  const window: Window = { notBefore: -Infinity, notAfter: Infinity };
  progress.window = window;

  // Step 1: parse and check the structure (version, key type, QE vendor, lengths).
  const quote = parseQuote(bytes);
  progress.quote = quote;
  const isTdx = quote.header.teeType === TEE_TYPE_TDX;

  // Step 2: the attestation key signs header and body.
  let attestationKey: KeyObject;
  try {
    attestationKey = p256KeyFromRaw(quote.attestationKey);
  } catch (error) {
    throw new EvidenceRejection(
      "EVIDENCE_SIGNATURE_INVALID",
      "attestation key is not a P-256 point",
      {
        cause: error,
      },
    );
  }
  check(
    verifyRawEcdsa(quote.signedBytes, attestationKey, quote.signature),
    "EVIDENCE_SIGNATURE_INVALID",
    "quote signature does not verify with the attestation key",
  );

  // Step 3: the PCK leaf signs the QE report.
  const collateral = options.collateral;
  const chain = pckChainOf(quote, collateral);
  const leaf = chain[0]!;
  check(
    verifySignature(
      "sha256",
      quote.qeReport.raw,
      { key: leaf.publicKey, dsaEncoding: "ieee-p1363" },
      quote.qeReportSignature,
    ),
    "QE_REPORT_SIGNATURE_INVALID",
    "QE report signature does not verify with the PCK certificate",
  );

  // Step 4: the QE report binds the attestation key and QE authentication data.
  const binding = createHash("sha256")
    .update(quote.attestationKey)
    .update(quote.qeAuthData)
    .digest();
  check(
    bytesEqual(quote.qeReport.reportData.subarray(0, 32), binding) &&
      isAllZero(quote.qeReport.reportData.subarray(32)),
    "QE_REPORT_BINDING_INVALID",
    "QE report data does not hash the attestation key",
  );

  // Step 5: the PCK chain (leaf, PCK Processor or Platform CA, root) reaches a pinned Intel SGX
  // Root CA and is valid now.
  check(
    chain.length === 3 &&
      (hasCommonName(chain[1]!, "Intel SGX PCK Processor CA") ||
        hasCommonName(chain[1]!, "Intel SGX PCK Platform CA")),
    "CERT_CHAIN_INVALID",
    "PCK chain is not leaf, Intel SGX PCK Processor or Platform CA, root",
  );
  narrowWindow(
    window,
    verifyCertificateChain({ chain, trustedRootKeys, nowMs, label: "PCK chain" }),
  );
  const pck = readPckExtension(leaf);

  if (!collateral) {
    throw new EvidenceRejection(
      "COLLATERAL_MISSING",
      "no TCB info, QE identity or CRLs were given",
    );
  }

  // Step 6: revocation of the intermediate (Root CA CRL) and of the leaf (PCK CRL).
  const root = chain[chain.length - 1]!;
  const rootCaCrl = verifyRootCaCrl(collateral.rootCaCrl, root, nowMs, window);
  if (rootCaCrl) {
    for (const certificate of chain.slice(1, -1)) {
      checkNotRevoked(rootCaCrl, certificate, "Root CA CRL");
    }
  } else {
    check(!policy.requireRootCaCrl, "COLLATERAL_MISSING", "the Root CA CRL is required");
  }
  verifyPckCrl(collateral.pckCrl, leaf, chain[1]!, nowMs, window);

  // Step 7: TCB info and QE identity are signed by Intel and current.
  verifySignedCollateral(collateral.tcbInfo, "TCB info", trustedRootKeys, rootCaCrl, nowMs, window);
  verifySignedCollateral(
    collateral.qeIdentity,
    "QE identity",
    trustedRootKeys,
    rootCaCrl,
    nowMs,
    window,
  );
  const tcbInfo = parseTcbInfo(collateral.tcbInfo.body);
  const qeIdentity = parseEnclaveIdentity(collateral.qeIdentity.body);
  checkCollateralDates(tcbInfo.issueDateMs, tcbInfo.nextUpdateMs, nowMs, "TCB info", window);
  checkCollateralDates(
    qeIdentity.issueDateMs,
    qeIdentity.nextUpdateMs,
    nowMs,
    "QE identity",
    window,
  );

  // Step 8: the TCB info describes this platform and this TEE.
  check(tcbInfo.fmspc === pck.fmspc, "COLLATERAL_MISMATCH", "TCB info FMSPC differs from the PCK");
  check(tcbInfo.pceId === pck.pceId, "COLLATERAL_MISMATCH", "TCB info PCE-ID differs from the PCK");
  check(
    isTdx ? tcbInfo.id === "TDX" && tcbInfo.version >= 3 : tcbInfo.id === "SGX",
    "COLLATERAL_MISMATCH",
    `TCB info id ${tcbInfo.id} v${tcbInfo.version} does not fit a ${isTdx ? "TDX" : "SGX"} quote`,
  );
  check(
    !isTdx || tcbInfo.tdxModule !== undefined,
    "COLLATERAL_INVALID",
    "TDX TCB info has no tdxModule",
  );

  // Step 9: the Quoting Enclave is Intel's and its TCB is known.
  const qe = quote.qeReport;
  check(
    qeIdentity.id === (isTdx ? TDX_QE_IDENTITY_ID : SGX_QE_IDENTITY_ID),
    "COLLATERAL_MISMATCH",
    `QE identity id ${qeIdentity.id} does not fit the quote`,
  );
  const maskedMisc = qe.miscSelect.map((byte, i) => byte & qeIdentity.miscSelectMask[i]!);
  const maskedAttributes = qe.attributes.map((byte, i) => byte & qeIdentity.attributesMask[i]!);
  check(
    bytesEqual(qeIdentity.mrSigner, qe.mrSigner) &&
      qeIdentity.isvProdId === qe.isvProdId &&
      bytesEqual(maskedMisc, qeIdentity.miscSelect) &&
      bytesEqual(maskedAttributes, qeIdentity.attributes),
    "QE_IDENTITY_MISMATCH",
    "QE report does not match the QE identity",
  );
  const qeLevel = evaluateQeTcb(qeIdentity.levels, qe.isvSvn);

  // Steps 10 to 12: the platform TCB level (and for TDX the module and TD relaunch rule).
  const platform =
    quote.body.kind === "sgx"
      ? evaluateSgxTcb(tcbInfo, pck)
      : evaluateTdxTcb(tcbInfo, pck, quote.body.report, qeLevel.status);

  // Step 13: fold in the QE status.
  const status = convergeStatus(platform.status, qeLevel.status);
  const advisoryIds = [...platform.advisoryIds];
  if (qeLevel.status !== "UpToDate") advisoryIds.push(...qeLevel.advisoryIds);
  progress.tcbStatus = status;
  progress.advisoryIds = [...new Set(advisoryIds)];

  // Step 14: the caller's policy.
  const evaluationNumber = Math.min(
    tcbInfo.tcbEvaluationDataNumber,
    qeIdentity.tcbEvaluationDataNumber,
  );
  applyQuotePolicy(quote, status, evaluationNumber, policy);
}

/** Reads the TEE type field of a quote header without parsing; returns 0 (SGX) when too short. */
function teeTypeOf(bytes: Uint8Array): number {
  return bytes.length >= 8 ? Buffer.from(bytes.buffer, bytes.byteOffset + 4, 4).readUInt32LE(0) : 0;
}
