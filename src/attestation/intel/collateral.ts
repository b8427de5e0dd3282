// Intel DCAP collateral: TCB info, QE identity, CRLs and their issuer chains, in the shapes
// Intel's PCS (API v3/v4) and PCCS serve them.
import type { X509Certificate } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import { fromHex } from "../bytes.ts";
import { parsePemCertificates } from "../certificate-chain.ts";
import { extractJsonMember } from "./json-member.ts";

/** A JSON document signed by the Intel SGX TCB Signing key. */
export interface SignedCollateral {
  /** The exact signed text, as served (never re-serialised). */
  readonly body: string;
  /** ECDSA P-256 signature: raw r‖s (64 bytes, PCS form) or DER. */
  readonly signature: Uint8Array;
  /** TCB Signing certificate then Root CA, as the issuer-chain header carries them. */
  readonly issuerChain: readonly X509Certificate[];
}

/** Everything an SGX or TDX quote needs besides itself. */
export interface IntelCollateral {
  readonly tcbInfo: SignedCollateral;
  readonly qeIdentity: SignedCollateral;
  /** CRL of the PCK Processor or Platform CA that issued the PCK leaf: DER, PEM or hex. */
  readonly pckCrl: Uint8Array | string;
  /** CRL of the Intel SGX Root CA: DER, PEM or hex. Required unless the policy waives it. */
  readonly rootCaCrl?: Uint8Array | string;
  /** PCK chain, leaf first, for quotes that do not carry it (certification data types 1 to 4). */
  readonly pckChain?: readonly X509Certificate[];
}

function invalid(what: string, fix: string): CloisterError {
  return new CloisterError("INVALID_ARGUMENT", `${what} is invalid: ${fix}`);
}

/** Decodes a collateral signature given as hex of r‖s or as a DER byte array. */
export function decodeCollateralSignature(value: unknown, what: string): Uint8Array {
  if (typeof value === "string") {
    const bytes = fromHex(value);
    if (bytes && bytes.length === 64) return bytes;
  } else if (Array.isArray(value) && value.every((n) => Number.isInteger(n) && n >= 0 && n < 256)) {
    return new Uint8Array(value as number[]);
  }
  throw invalid(`${what} signature`, "expected 128 hex characters (r‖s) or a DER byte array");
}

/** Parses issuer chain PEM, URL-decoding it first when it came from an HTTP header. */
export function parseIssuerChain(text: string, what: string): X509Certificate[] {
  const decoded = text.includes("%2D") || text.includes("%20") ? decodeURIComponent(text) : text;
  const chain = parsePemCertificates(decoded);
  if (chain.length === 0) throw invalid(`${what} issuer chain`, "expected PEM certificates");
  return chain;
}

/**
 * Reads a PCS response body `{"tcbInfo": {...}, "signature": "..."}` (or `enclaveIdentity`),
 * keeping the exact bytes of the signed member. `issuerChain` is the issuer-chain header
 * value (PEM, URL-encoded or not) or the certificates themselves.
 */
export function signedCollateralFromPcs(
  responseText: string,
  member: "tcbInfo" | "enclaveIdentity",
  issuerChain: string | readonly X509Certificate[],
): SignedCollateral {
  let parsed: unknown;
  try {
    parsed = JSON.parse(responseText);
  } catch (error) {
    throw new CloisterError("INVALID_ARGUMENT", `${member} response is not JSON`, { cause: error });
  }
  const body = extractJsonMember(responseText, member);
  if (body === undefined || typeof parsed !== "object" || parsed === null) {
    throw invalid(`${member} response`, `expected an object with "${member}" and "signature"`);
  }
  return {
    body,
    signature: decodeCollateralSignature((parsed as { signature?: unknown }).signature, member),
    issuerChain:
      typeof issuerChain === "string" ? parseIssuerChain(issuerChain, member) : issuerChain,
  };
}

/**
 * Reads a collateral bundle in the layout of Phala's dcap-qvl `QuoteCollateralV3` JSON:
 * `tcb_info` and `qe_identity` hold the signed strings, `*_signature` their hex signatures,
 * the CRLs are hex DER, and the issuer chains are PEM.
 */
export function intelCollateralFromBundle(text: string): IntelCollateral {
  let bundle: Record<string, unknown>;
  try {
    bundle = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new CloisterError("INVALID_ARGUMENT", "collateral bundle is not JSON", { cause: error });
  }
  const text_ = (key: string): string => {
    const value = bundle[key];
    if (typeof value !== "string") throw invalid("collateral bundle", `"${key}" must be a string`);
    return value;
  };
  return {
    tcbInfo: {
      body: text_("tcb_info"),
      signature: decodeCollateralSignature(bundle["tcb_info_signature"], "tcb_info"),
      issuerChain: parseIssuerChain(text_("tcb_info_issuer_chain"), "tcb_info"),
    },
    qeIdentity: {
      body: text_("qe_identity"),
      signature: decodeCollateralSignature(bundle["qe_identity_signature"], "qe_identity"),
      issuerChain: parseIssuerChain(text_("qe_identity_issuer_chain"), "qe_identity"),
    },
    pckCrl: text_("pck_crl"),
    rootCaCrl: text_("root_ca_crl"),
  };
}
