import { X509Certificate } from "node:crypto";

/** One DER element (tag, length, value) and where it sits in the buffer it was read from. */
export interface DerElement {
  readonly tag: number;
  /** The value bytes, without tag and length. */
  readonly content: Uint8Array;
  /** The whole element, tag and length included. */
  readonly encoded: Uint8Array;
}

/** A DER structure that cannot be decoded. Callers map it to their own error. */
export class DerError extends Error {
  override readonly name = "DerError";
}

/** Reads the DER element that starts at `offset` of `input`. */
export function readDerElement(input: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > input.length) throw new DerError("truncated DER element");
  const tag = input[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not supported");
  let length = input[offset + 1]!;
  let headerLength = 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4) throw new DerError("invalid DER length");
    if (offset + 2 + lengthBytes > input.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + input[offset + 2 + i]!;
    headerLength += lengthBytes;
  }
  const end = offset + headerLength + length;
  if (end > input.length) throw new DerError("DER element runs past the end of its buffer");
  return {
    tag,
    content: input.subarray(offset + headerLength, end),
    encoded: input.subarray(offset, end),
  };
}

/** Reads every element inside a constructed element (SEQUENCE, SET or context tag). */
export function readDerChildren(element: DerElement): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < element.content.length) {
    const child = readDerElement(element.content, offset);
    children.push(child);
    offset += child.encoded.length;
  }
  return children;
}

/** Decodes an OBJECT IDENTIFIER value to dotted notation. */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new DerError("empty OBJECT IDENTIFIER");
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  return arcs.join(".");
}

/** Decodes a non-negative INTEGER or ENUMERATED value that fits in a JavaScript number. */
export function decodeSmallInteger(element: DerElement): number {
  if (element.tag !== 0x02 && element.tag !== 0x0a) throw new DerError("expected an INTEGER");
  if (element.content.length === 0 || element.content.length > 6) {
    throw new DerError("INTEGER out of range");
  }
  if (element.content[0]! & 0x80) throw new DerError("negative INTEGER");
  let value = 0;
  for (const byte of element.content) value = value * 256 + byte;
  return value;
}

/** Returns an INTEGER's magnitude as upper-case hex without leading zeros, as Node prints serials. */
export function integerToHex(content: Uint8Array): string {
  let start = 0;
  while (start < content.length - 1 && content[start] === 0) start++;
  return Buffer.from(content.subarray(start)).toString("hex").toUpperCase();
}

/** Decodes a UTCTime (0x17) or GeneralizedTime (0x18) to milliseconds since the epoch. */
export function decodeTime(element: DerElement): number {
  const text = Buffer.from(element.content).toString("latin1");
  let match: RegExpMatchArray | null;
  let year: number;
  if (element.tag === 0x17) {
    match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
    if (!match) throw new DerError("invalid UTCTime");
    const shortYear = Number(match[1]);
    year = shortYear < 50 ? 2000 + shortYear : 1900 + shortYear;
  } else if (element.tag === 0x18) {
    match = /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
    if (!match) throw new DerError("invalid GeneralizedTime");
    year = Number(match[1]);
  } else {
    throw new DerError("expected a time value");
  }
  const [, , month, day, hour, minute, second] = match.map(Number) as number[];
  return Date.UTC(year, month! - 1, day, hour, minute, second);
}

/**
 * Finds an X.509 v3 extension by OID and returns its extnValue (the OCTET STRING content), or
 * undefined when the certificate has none with that OID.
 */
export function findCertificateExtension(
  certificate: X509Certificate | Uint8Array,
  oid: string,
): Uint8Array | undefined {
  const der = certificate instanceof X509Certificate ? certificate.raw : certificate;
  const [tbs] = readDerChildren(readDerElement(der));
  if (!tbs) throw new DerError("certificate without tbsCertificate");
  const extensionsWrapper = readDerChildren(tbs).find((field) => field.tag === 0xa3);
  if (!extensionsWrapper) return undefined;
  const [extensions] = readDerChildren(extensionsWrapper);
  if (!extensions) return undefined;
  for (const extension of readDerChildren(extensions)) {
    const parts = readDerChildren(extension);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id?.tag === 0x06 && value?.tag === 0x04 && decodeOid(id.content) === oid) {
      return value.content;
    }
  }
  return undefined;
}
