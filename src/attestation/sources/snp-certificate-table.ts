// The SEV-SNP extended guest request certificate table (AMD SNP Firmware ABI, "GUID table"),
// as the kernel exposes it in configfs-tsm `auxblob`.
import { CloisterError } from "../../common/errors.ts";
import type { Evidence } from "../evidence.ts";

const GUIDS: Readonly<Record<string, "vcek" | "vlek" | "ask" | "ark">> = {
  "63da758d-e664-4564-adc5-f4b93be8accd": "vcek",
  "a8074bc2-a25a-483e-aae6-39c045a0b8a1": "vlek",
  "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ask",
  "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ark",
};

/** Formats a 16-byte GUID in its mixed-endian text form. */
function guidText(bytes: Buffer): string {
  const hex = (buffer: Buffer): string => buffer.toString("hex");
  const reversed = (start: number, end: number): string =>
    hex(Buffer.from(bytes.subarray(start, end)).reverse());
  return [
    reversed(0, 4),
    reversed(4, 6),
    reversed(6, 8),
    hex(bytes.subarray(8, 10)),
    hex(bytes.subarray(10, 16)),
  ].join("-");
}

/**
 * Parses the table of `{GUID[16], u32 offset, u32 length}` entries that ends with an all-zero
 * entry. Offsets are relative to the table start. Unknown GUIDs are skipped.
 */
export function parseCertificateTable(table: Uint8Array): NonNullable<Evidence["certificates"]> {
  const buffer = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const certificates: Record<string, Uint8Array> = {};
  for (let offset = 0; offset + 24 <= buffer.length; offset += 24) {
    const guid = buffer.subarray(offset, offset + 16);
    const start = buffer.readUInt32LE(offset + 16);
    const length = buffer.readUInt32LE(offset + 20);
    if (guid.every((byte) => byte === 0)) return certificates;
    if (start + length > buffer.length) {
      throw new CloisterError("INVALID_ARGUMENT", "SNP certificate table entry runs past its end");
    }
    const name = GUIDS[guidText(guid)];
    if (name) certificates[name] = new Uint8Array(buffer.subarray(start, start + length));
  }
  throw new CloisterError("INVALID_ARGUMENT", "SNP certificate table has no terminating entry");
}
