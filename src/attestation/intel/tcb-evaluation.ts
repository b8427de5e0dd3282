// TCB level selection and status convergence for SGX and TDX quotes, after Intel's Quote
// Verification Library (intel/SGX-TDX-DCAP-QuoteVerificationLibrary).
// Step numbers refer to the verification procedure in verify-quote.ts.
import { bytesEqual } from "../bytes.ts";
import { EvidenceRejection, type TcbStatus } from "../verdict.ts";
import type { PckExtension } from "./pck-extension.ts";
import type { TdReportBody } from "./quote.ts";
import type { IsvSvnLevel, TcbInfo, TcbLevel, TdxModuleIdentity } from "./tcb-info.ts";

/** The outcome of the platform TCB evaluation, before the QE status is folded in. */
export interface TcbEvaluation {
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

function sgxMatches(level: TcbLevel, pck: PckExtension): boolean {
  return (
    level.sgxComponents.every((svn, i) => (pck.sgxTcbComponents[i] ?? 0) >= svn) &&
    pck.pceSvn >= level.pceSvn
  );
}

function tdxMatches(level: TcbLevel, teeTcbSvn: Uint8Array): boolean {
  // With a module identity in play (major version != 0), components 0 and 1 describe the
  // module and are matched against the module identity instead (step 11).
  const first = teeTcbSvn[1] !== 0 ? 2 : 0;
  const required = level.tdxComponents;
  if (!required) return false;
  for (let i = first; i < 16; i++) if (required[i]! > teeTcbSvn[i]!) return false;
  return true;
}

/** Applies an OutOfDate or Revoked status of a component (QE or TDX module) to `status`. */
export function convergeStatus(status: TcbStatus, component: TcbStatus): TcbStatus {
  if (component === "Revoked") return "Revoked";
  if (component !== "OutOfDate") return status;
  if (status === "UpToDate" || status === "SWHardeningNeeded") return "OutOfDate";
  if (status === "ConfigurationNeeded" || status === "ConfigurationAndSWHardeningNeeded") {
    return "OutOfDateConfigurationNeeded";
  }
  return status;
}

function firstIsvSvnLevel(levels: readonly IsvSvnLevel[], isvSvn: number): IsvSvnLevel | undefined {
  return levels.find((level) => level.isvSvn <= isvSvn);
}

function checkModuleIdentity(
  identity: Pick<TdxModuleIdentity, "mrSigner" | "attributes" | "attributesMask">,
  report: TdReportBody,
  label: string,
): void {
  const masked = report.seamAttributes.map((byte, i) => byte & identity.attributesMask[i]!);
  if (!bytesEqual(identity.mrSigner, report.mrSignerSeam)) {
    throw new EvidenceRejection(
      "TDX_MODULE_MISMATCH",
      `${label} mrsigner differs from MRSIGNERSEAM`,
    );
  }
  if (!bytesEqual(masked, identity.attributes)) {
    throw new EvidenceRejection(
      "TDX_MODULE_MISMATCH",
      `${label} attributes differ from SEAMATTRIBUTES`,
    );
  }
}

function moduleIdentityId(majorVersion: number): string {
  return `TDX_${majorVersion.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** Step 10 for SGX: the first TCB level the PCK's components and PCESVN reach. */
export function evaluateSgxTcb(tcbInfo: TcbInfo, pck: PckExtension): TcbEvaluation {
  const level = tcbInfo.levels.find((candidate) => sgxMatches(candidate, pck));
  if (!level) {
    throw new EvidenceRejection("TCB_NOT_SUPPORTED", "no TCB level matches the PCK certificate");
  }
  return { status: level.status, advisoryIds: level.advisoryIds };
}

/** Steps 10 to 12 for TDX: TCB level, TDX module identity and the TD relaunch rule. */
export function evaluateTdxTcb(
  tcbInfo: TcbInfo,
  pck: PckExtension,
  report: TdReportBody,
  qeStatus: TcbStatus,
): TcbEvaluation {
  // Step 10: the first level that both the PCK (SGX part) and TEE_TCB_SVN reach.
  const sgxLevel = tcbInfo.levels.find((candidate) => sgxMatches(candidate, pck));
  if (!sgxLevel) {
    throw new EvidenceRejection("TCB_NOT_SUPPORTED", "no TCB level matches the PCK certificate");
  }
  const level = tcbInfo.levels.find(
    (candidate) => sgxMatches(candidate, pck) && tdxMatches(candidate, report.teeTcbSvn),
  );
  if (!level) {
    throw new EvidenceRejection("TCB_NOT_SUPPORTED", "no TCB level matches TEE_TCB_SVN");
  }

  // Step 11: the TDX module, and the module identity when the major version is not 0.
  if (tcbInfo.tdxModule) checkModuleIdentity(tcbInfo.tdxModule, report, "TCB info tdxModule");
  let status = level.status;
  let moduleStatus: TcbStatus | undefined;
  const advisoryIds = [...level.advisoryIds];
  const majorVersion = report.teeTcbSvn[1]!;
  if (majorVersion !== 0) {
    const id = moduleIdentityId(majorVersion);
    const identity = tcbInfo.tdxModuleIdentities.find((candidate) => candidate.id === id);
    if (!identity) {
      throw new EvidenceRejection("TDX_MODULE_MISMATCH", `TCB info has no module identity ${id}`);
    }
    checkModuleIdentity(identity, report, id);
    const moduleLevel = firstIsvSvnLevel(identity.levels, report.teeTcbSvn[0]!);
    if (!moduleLevel) {
      throw new EvidenceRejection("TCB_NOT_SUPPORTED", `no ${id} level matches the module ISVSVN`);
    }
    moduleStatus = moduleLevel.status;
    advisoryIds.push(...moduleLevel.advisoryIds);
    status = convergeStatus(status, moduleStatus);
  }

  // Step 12: TD relaunch. A TD 1.5 module updated at runtime reports its current SVNs in
  // TEE_TCB_SVN2; when those reach the newest level, relaunching the TD fixes the status.
  const svn2 = report.teeTcbSvn2;
  const configurable: ReadonlySet<TcbStatus> = new Set<TcbStatus>([
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
  ]);
  if (
    svn2 &&
    qeStatus === "UpToDate" &&
    configurable.has(sgxLevel.status) &&
    (status === "OutOfDate" || status === "OutOfDateConfigurationNeeded") &&
    moduleStatus === "OutOfDate" &&
    moduleCaughtUp(tcbInfo, svn2)
  ) {
    const configurationNeeded =
      status === "OutOfDateConfigurationNeeded" || sgxLevel.status.startsWith("Configuration");
    status = configurationNeeded ? "TDRelaunchAdvisedConfigurationNeeded" : "TDRelaunchAdvised";
  }
  return { status, advisoryIds: [...new Set(advisoryIds)] };
}

function moduleCaughtUp(tcbInfo: TcbInfo, svn2: Uint8Array): boolean {
  const newest = tcbInfo.levels[0];
  if (!newest?.tdxComponents || svn2[2]! < newest.tdxComponents[2]!) return false;
  if (svn2[1] === 0) return svn2[0]! >= newest.tdxComponents[0]!;
  const identity = tcbInfo.tdxModuleIdentities.find((m) => m.id === moduleIdentityId(svn2[1]!));
  const newestModuleLevel = identity?.levels[0];
  return newestModuleLevel !== undefined && svn2[0]! >= newestModuleLevel.isvSvn;
}

/** Step 9: the QE TCB status, from the first level at or below the QE's ISVSVN. */
export function evaluateQeTcb(levels: readonly IsvSvnLevel[], isvSvn: number): IsvSvnLevel {
  const level = firstIsvSvnLevel(levels, isvSvn);
  if (!level) throw new EvidenceRejection("TCB_NOT_SUPPORTED", "no QE identity level matches");
  return level;
}
