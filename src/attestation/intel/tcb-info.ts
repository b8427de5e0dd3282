// TCB info (v2 and v3) and enclave identity (QE identity) JSON, as Intel's PCS serves them.
// Field names follow "Intel SGX and Intel TDX PCS API Specification" (API v3 and v4).
import { fromHex } from "../bytes.ts";
import { EvidenceRejection, type TcbStatus } from "../verdict.ts";

const TCB_STATUSES: ReadonlySet<string> = new Set<TcbStatus>([
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
]);

export interface TcbLevel {
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** Present in TDX TCB info only. */
  readonly tdxComponents?: readonly number[];
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** One level of a QE identity or TDX module identity, matched by ISVSVN. */
export interface IsvSvnLevel {
  readonly isvSvn: number;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

export interface TdxModuleIdentity {
  readonly id: string;
  readonly mrSigner: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly levels: readonly IsvSvnLevel[];
}

export interface TcbInfo {
  readonly id: "SGX" | "TDX";
  readonly version: number;
  readonly issueDateMs: number;
  readonly nextUpdateMs: number;
  /** Lower-case hex. */
  readonly fmspc: string;
  /** Lower-case hex. */
  readonly pceId: string;
  readonly tcbEvaluationDataNumber: number;
  readonly tdxModule?: Omit<TdxModuleIdentity, "id" | "levels">;
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[];
  readonly levels: readonly TcbLevel[];
}

export interface EnclaveIdentity {
  readonly id: string;
  readonly version: number;
  readonly issueDateMs: number;
  readonly nextUpdateMs: number;
  readonly tcbEvaluationDataNumber: number;
  readonly miscSelect: Uint8Array;
  readonly miscSelectMask: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  /** Sorted by ISVSVN, highest first. */
  readonly levels: readonly IsvSvnLevel[];
}

type Json = Record<string, unknown>;

function fail(what: string): never {
  throw new EvidenceRejection("COLLATERAL_INVALID", what);
}

function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`${what} is not an object`);
  return value as Json;
}

function integer(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(`${what} is not an integer`);
  return value as number;
}

function hexField(value: unknown, what: string, bytes?: number): Uint8Array {
  const decoded = typeof value === "string" ? fromHex(value) : undefined;
  if (!decoded || (bytes !== undefined && decoded.length !== bytes)) fail(`${what} is not hex`);
  return decoded;
}

function date(value: unknown, what: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) fail(`${what} is not a date`);
  return ms;
}

function status(value: unknown, what: string): TcbStatus {
  if (typeof value !== "string" || !TCB_STATUSES.has(value)) fail(`${what} is unknown`);
  return value as TcbStatus;
}

function advisories(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === "string") : [];
}

function components(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || value.length !== 16) fail(`${what} must list 16 components`);
  return value.map((component, i) => integer(object(component, what)["svn"], `${what}[${i}]`));
}

function isvSvnLevels(value: unknown, what: string): IsvSvnLevel[] {
  if (!Array.isArray(value)) fail(`${what} is not an array`);
  const levels = value.map((entry, i) => {
    const level = object(entry, `${what}[${i}]`);
    return {
      isvSvn: integer(object(level["tcb"], `${what}[${i}].tcb`)["isvsvn"], `${what}[${i}] isvsvn`),
      status: status(level["tcbStatus"], `${what}[${i}] tcbStatus`),
      advisoryIds: advisories(level["advisoryIDs"]),
    };
  });
  return levels.sort((a, b) => b.isvSvn - a.isvSvn);
}

function moduleIdentity(value: unknown, what: string): TdxModuleIdentity {
  const module = object(value, what);
  return {
    id: typeof module["id"] === "string" ? module["id"] : "",
    mrSigner: hexField(module["mrsigner"], `${what} mrsigner`, 48),
    attributes: hexField(module["attributes"], `${what} attributes`, 8),
    attributesMask: hexField(module["attributesMask"], `${what} attributesMask`, 8),
    levels: module["tcbLevels"] === undefined ? [] : isvSvnLevels(module["tcbLevels"], what),
  };
}

function parseJson(body: string, what: string): Json {
  try {
    return object(JSON.parse(body), what);
  } catch (error) {
    if (error instanceof EvidenceRejection) throw error;
    throw new EvidenceRejection("COLLATERAL_INVALID", `${what} is not JSON`, { cause: error });
  }
}

/** Parses the signed `tcbInfo` text (v2 or v3). Throws EvidenceRejection (COLLATERAL_INVALID). */
export function parseTcbInfo(body: string): TcbInfo {
  const info = parseJson(body, "TCB info");
  const version = integer(info["version"], "TCB info version");
  const id = info["id"] ?? "SGX";
  if (id !== "SGX" && id !== "TDX") fail(`TCB info id ${String(id)} is not SGX or TDX`);
  if (version !== 2 && version !== 3) fail(`TCB info version ${version} is not 2 or 3`);
  if (!Array.isArray(info["tcbLevels"])) fail("TCB info tcbLevels is not an array");
  const levels = info["tcbLevels"].map((entry: unknown, i: number): TcbLevel => {
    const what = `TCB info level ${i}`;
    const level = object(entry, what);
    const tcb = object(level["tcb"], `${what} tcb`);
    const sgxComponents =
      version === 2
        ? Array.from({ length: 16 }, (_, c) => {
            const key = `sgxtcbcomp${String(c + 1).padStart(2, "0")}svn`;
            return integer(tcb[key], `${what} ${key}`);
          })
        : components(tcb["sgxtcbcomponents"], `${what} sgxtcbcomponents`);
    return {
      sgxComponents,
      pceSvn: integer(tcb["pcesvn"], `${what} pcesvn`),
      ...(tcb["tdxtcbcomponents"] === undefined
        ? {}
        : { tdxComponents: components(tcb["tdxtcbcomponents"], `${what} tdxtcbcomponents`) }),
      status: status(level["tcbStatus"], `${what} tcbStatus`),
      advisoryIds: advisories(level["advisoryIDs"]),
    };
  });
  const identities = info["tdxModuleIdentities"];
  return {
    id,
    version,
    issueDateMs: date(info["issueDate"], "TCB info issueDate"),
    nextUpdateMs: date(info["nextUpdate"], "TCB info nextUpdate"),
    fmspc: Buffer.from(hexField(info["fmspc"], "TCB info fmspc", 6)).toString("hex"),
    pceId: Buffer.from(hexField(info["pceId"], "TCB info pceId", 2)).toString("hex"),
    tcbEvaluationDataNumber: integer(
      info["tcbEvaluationDataNumber"] ?? 0,
      "tcbEvaluationDataNumber",
    ),
    ...(info["tdxModule"] === undefined
      ? {}
      : { tdxModule: moduleIdentity(info["tdxModule"], "TCB info tdxModule") }),
    tdxModuleIdentities: Array.isArray(identities)
      ? identities.map((entry, i) => moduleIdentity(entry, `tdxModuleIdentities[${i}]`))
      : [],
    levels,
  };
}

/** Parses the signed `enclaveIdentity` text. Throws EvidenceRejection (COLLATERAL_INVALID). */
export function parseEnclaveIdentity(body: string): EnclaveIdentity {
  const identity = parseJson(body, "QE identity");
  return {
    id: typeof identity["id"] === "string" ? identity["id"] : "QE",
    version: integer(identity["version"], "QE identity version"),
    issueDateMs: date(identity["issueDate"], "QE identity issueDate"),
    nextUpdateMs: date(identity["nextUpdate"], "QE identity nextUpdate"),
    tcbEvaluationDataNumber: integer(
      identity["tcbEvaluationDataNumber"] ?? 0,
      "tcbEvaluationDataNumber",
    ),
    miscSelect: hexField(identity["miscselect"], "QE identity miscselect", 4),
    miscSelectMask: hexField(identity["miscselectMask"], "QE identity miscselectMask", 4),
    attributes: hexField(identity["attributes"], "QE identity attributes", 16),
    attributesMask: hexField(identity["attributesMask"], "QE identity attributesMask", 16),
    mrSigner: hexField(identity["mrsigner"], "QE identity mrsigner", 32),
    isvProdId: integer(identity["isvprodid"], "QE identity isvprodid"),
    levels: isvSvnLevels(identity["tcbLevels"], "QE identity tcbLevels"),
  };
}
