// Verification of AMD SEV-SNP attestation reports. Steps follow AMD's "SEV Secure Nested
// Paging Firmware ABI Specification" (publication 56860) and the VCEK specification
// (publication 57230).
import { type X509Certificate, verify as verifySignature } from "node:crypto";
import { bytesEqual, toHex } from "../bytes.ts";
import { verifyCertificateChain } from "../certificate-chain.ts";
import { checkNotRevoked, parseCrl, verifyCrl } from "../crl.ts";
import {
  resolvePolicy,
  verificationTime,
  type ResolvedPolicy,
  type VerificationPolicy,
} from "../policy.ts";
import { AMD_ARK_KEYS, trustAnchorKeys, type TrustAnchor } from "../trust-anchors.ts";
import {
  EvidenceRejection,
  check,
  rejectionOf,
  type SnpMeasurements,
  type Verdict,
} from "../verdict.ts";
import {
  POLICY_DEBUG,
  SNP_SIGNED_BYTES,
  decodeTcbVersion,
  parseSnpReport,
  type SnpReport,
} from "./snp-report.ts";
import { applySnpPolicy } from "./snp-policy.ts";
import { readVekExtensions, type VekExtensions } from "./vek-certificate.ts";

/** The certificates an SNP report needs: from AMD's KDS, or the host's certificate table. */
export interface SnpCollateral {
  /** The VCEK or VLEK that signed the report. */
  readonly vek: X509Certificate;
  /** ASK (or ASVK for a VLEK) then ARK, as KDS `cert_chain` serves them. */
  readonly chain: readonly X509Certificate[];
  /** The ARK-signed CRL from KDS (`/vcek/v1/{product}/crl`), DER or PEM. Checked when given. */
  readonly crl?: Uint8Array | string;
}

export interface SnpVerifyOptions {
  readonly now: Date;
  readonly collateral?: SnpCollateral;
  readonly policy?: VerificationPolicy;
  /** Accepted ARK keys. Default: AMD's Milan, Genoa and Turin ARKs. */
  readonly trustAnchors?: readonly TrustAnchor[];
}

interface Progress {
  report?: SnpReport;
  vek?: VekExtensions;
  window?: { notBefore: number; notAfter: number };
}

function measurementsOf(report: SnpReport, vek: VekExtensions | undefined): SnpMeasurements {
  const product = vek?.product ?? "Milan";
  return {
    measurement: toHex(report.measurement),
    hostData: toHex(report.hostData),
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    reportId: toHex(report.reportId),
    chipId: toHex(report.chipId),
    policy: `0x${report.policy.toString(16)}`,
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    reportVersion: report.version,
    product: vek?.productName ?? "unknown",
    signingKey: report.signingKey === 1 ? "vlek" : "vcek",
    reportedTcb: { ...decodeTcbVersion(report.reportedTcb, product) },
    firmwareVersion: `${report.currentFirmware.major}.${report.currentFirmware.minor}.${report.currentFirmware.build}`,
    platformInfo: `0x${report.platformInfo.toString(16)}`,
    debug: (report.policy & POLICY_DEBUG) !== 0n,
  };
}

/**
 * Verifies an SEV-SNP attestation report with its VCEK or VLEK chain at `options.now` and
 * applies the policy. Bad evidence gives a rejected verdict; only unusable options throw
 * CloisterError INVALID_ARGUMENT. SNP has no TCB status like Intel's, so `tcbStatus` stays
 * unset: use the policy's `snpMinimumTcb`.
 */
export function verifySnpReport(bytes: Uint8Array, options: SnpVerifyOptions): Verdict {
  verificationTime(options.now);
  const progress: Progress = {};
  const policy = resolvePolicy(options.policy);
  let rejection: Verdict["rejection"];
  try {
    runSteps(bytes, options, policy, progress);
  } catch (error) {
    rejection = rejectionOf(error);
  }
  const { report, window } = progress;
  return {
    accepted: rejection === undefined,
    tee: "sev-snp",
    hardwareProtected: true,
    advisoryIds: [],
    ...(report
      ? { measurements: measurementsOf(report, progress.vek), reportData: toHex(report.reportData) }
      : {}),
    ...(window
      ? {
          collateralWindow: {
            notBefore: new Date(window.notBefore).toISOString(),
            notAfter: new Date(window.notAfter).toISOString(),
          },
        }
      : {}),
    verifiedAt: options.now.toISOString(),
    ...(rejection ? { rejection } : {}),
  };
}

function runSteps(
  bytes: Uint8Array,
  options: SnpVerifyOptions,
  policy: ResolvedPolicy,
  progress: Progress,
): void {
  // Step 1: length, version, signature algorithm, reserved bytes.
  const report = parseSnpReport(bytes);
  progress.report = report;
  const collateral = options.collateral;
  if (!collateral) {
    throw new EvidenceRejection("COLLATERAL_MISSING", "no VCEK or VLEK certificate was given");
  }

  // Step 2: the product, from the VEK's productName.
  const vek = readVekExtensions(collateral.vek);
  progress.vek = vek;
  if (report.cpuid) {
    const family = report.cpuid.family;
    const expectedFamily = vek.product === "Turin" ? 0x1a : 0x19;
    check(
      family === expectedFamily,
      "COLLATERAL_MISMATCH",
      `CPUID family does not fit ${vek.product}`,
    );
  }

  // Step 3: VEK → ASK/ASVK → ARK, valid now, ARK pinned.
  const trusted = trustAnchorKeys(options.trustAnchors ?? Object.values(AMD_ARK_KEYS));
  const nowMs = options.now.getTime();
  const window = verifyCertificateChain({
    chain: [collateral.vek, ...collateral.chain],
    trustedRootKeys: trusted,
    nowMs,
    label: `${vek.kind.toUpperCase()} chain`,
  });
  progress.window = window;
  if (collateral.crl !== undefined) {
    // The ARK's CRL lists revoked ASKs and ASVKs.
    const crl = parseCrl(collateral.crl, "AMD CRL");
    const crlWindow = verifyCrl(
      crl,
      collateral.chain[collateral.chain.length - 1]!,
      nowMs,
      "AMD CRL",
    );
    checkNotRevoked(crl, collateral.chain[0]!, "AMD CRL");
    window.notBefore = Math.max(window.notBefore, crlWindow.notBefore);
    window.notAfter = Math.min(window.notAfter, crlWindow.notAfter);
  }

  // Step 4: the report names the key type that signed it.
  const expectedKey = vek.kind === "vcek" ? 0 : 1;
  check(
    report.signingKey === expectedKey,
    "SIGNING_KEY_MISMATCH",
    `report SIGNING_KEY ${report.signingKey} does not fit a ${vek.kind.toUpperCase()}`,
  );

  // Step 5: ECDSA P-384 with SHA-384 over bytes 0x000..0x29F.
  check(
    verifySignature(
      "sha384",
      report.raw.subarray(0, SNP_SIGNED_BYTES),
      { key: collateral.vek.publicKey, dsaEncoding: "ieee-p1363" },
      report.signature,
    ),
    "EVIDENCE_SIGNATURE_INVALID",
    "SNP report signature does not verify with the VCEK/VLEK",
  );

  // Step 6: the certificate was issued for this TCB (and, for a VCEK, this chip).
  const reported = decodeTcbVersion(report.reportedTcb, vek.product);
  const keys = ["bootloader", "tee", "snp", "microcode", "fmc"] as const;
  for (const key of keys) {
    check(
      reported[key] === vek.tcb[key],
      "TCB_VERSION_MISMATCH",
      `REPORTED_TCB ${key} differs from the certificate`,
    );
  }
  if (vek.kind === "vcek") {
    check(
      vek.hwId !== undefined && bytesEqual(vek.hwId, report.chipId),
      "CHIP_ID_MISMATCH",
      "CHIP_ID differs from the VCEK hwID",
    );
  }

  // Step 7: the caller's policy.
  applySnpPolicy(report, reported, policy);
}
