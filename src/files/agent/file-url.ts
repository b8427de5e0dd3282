import { fileURLToPath } from "node:url";
import { CloisterError } from "../../common/errors.ts";
import type { FileDirection } from "../file-crypto.ts";

/** URL schemes a task may read from. */
export const inputSchemes = ["file", "http", "https", "data", "fusion"] as const;
/** URL schemes a task may write to; `data:` URLs cannot receive uploads. */
export const outputSchemes = ["file", "http", "https", "fusion"] as const;

export type FileUrlScheme = (typeof inputSchemes)[number];

/** The only data URL form Teaclave accepts. */
export const dataUrlPrefix = "data:text/plain;base64,";
/** The path prefix of fusion URLs, `fusion:///TEACLAVE_FUSION_BASE/<relative path>`. */
export const fusionPathPrefix = "/TEACLAVE_FUSION_BASE/";

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

function invalidUrl(message: string): CloisterError {
  return new CloisterError("INVALID_ARGUMENT", `invalid file URL: ${message}`);
}

function allowedSchemes(direction: FileDirection): readonly string[] {
  return direction === "input" ? inputSchemes : outputSchemes;
}

/** Describes a URL for messages without its query, fragment or credentials, which may be secret. */
export function describeUrl(url: URL): string {
  if (url.protocol === "data:") return "data URL";
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Splits the relative path of a fusion URL into decoded segments, rejecting any segment that
 * could leave the fusion base directory.
 */
export function fusionPathSegments(url: URL): string[] {
  if (url.host !== "" || !url.pathname.startsWith(fusionPathPrefix)) {
    throw invalidUrl(`fusion URLs must look like fusion://${fusionPathPrefix}<relative path>`);
  }
  const segments = url.pathname.slice(fusionPathPrefix.length).split("/");
  const decoded = segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return "";
    }
  });
  const unsafe = decoded.some(
    (segment) => segment === "" || segment === "." || segment === ".." || /[/\\\0]/.test(segment),
  );
  if (unsafe) {
    throw invalidUrl(
      `fusion path ${url.pathname} must be a relative path without empty, "." or ".." segments`,
    );
  }
  return decoded;
}

/** Decodes the payload of a `data:text/plain;base64,` URL. */
export function decodeDataUrl(url: string): Buffer {
  if (!url.startsWith(dataUrlPrefix)) {
    throw invalidUrl(`data URLs must start with "${dataUrlPrefix}"`);
  }
  const payload = url.slice(dataUrlPrefix.length);
  if (payload.length % 4 !== 0 || !base64Pattern.test(payload)) {
    throw invalidUrl("the payload of the data URL is not valid base64");
  }
  return Buffer.from(payload, "base64");
}

/**
 * Checks that `url` names a file the platform can download (inputs) or upload to (outputs),
 * and returns it parsed. Raises INVALID_ARGUMENT naming the scheme and the allowed schemes for
 * an unsupported scheme, and naming the problem for a malformed URL.
 */
export function validateFileUrl(url: string, direction: FileDirection): URL {
  const allowed = allowedSchemes(direction);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1] ?? "(none)";
    throw invalidUrl(
      `cannot parse the ${direction} URL (scheme ${scheme}); ` +
        `use an absolute URL with one of the schemes ${allowed.join(", ")}`,
    );
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!allowed.includes(scheme)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `unsupported URL scheme "${scheme}" for an ${direction}: ` +
        `allowed schemes are ${allowed.join(", ")}`,
    );
  }
  switch (scheme) {
    case "file":
      try {
        fileURLToPath(parsed);
      } catch {
        throw invalidUrl(`${describeUrl(parsed)} is not a local file path; use file:///path`);
      }
      break;
    case "http":
    case "https":
      if (parsed.hostname === "") throw invalidUrl(`${scheme} URLs need a host`);
      break;
    case "data":
      decodeDataUrl(url);
      break;
    case "fusion":
      fusionPathSegments(parsed);
      break;
  }
  return parsed;
}
