import { CloisterError } from "../../common/errors.ts";

/** Size of a WebAssembly page in bytes. */
export const wasmPageBytes = 65536;

/** Initial and maximum size, in pages, of a memory the module imports. */
export interface ImportedMemoryLimits {
  readonly module: string;
  readonly name: string;
  readonly initialPages: number;
  readonly maximumPages: number;
}

/** A module binary whose memory cannot grow past the cap. */
export interface CappedModule {
  /** The binary with the maximum of its own memory lowered to the cap. */
  readonly bytes: Uint8Array;
  /** Limits for the memory the host must supply, when the module imports its memory. */
  readonly importedMemory: ImportedMemoryLimits | undefined;
}

const sectionImport = 2;
const sectionMemory = 5;
const limitsHasMaximum = 0x01;
const limitsShared = 0x02;
const limitsMemory64 = 0x04;

/**
 * Rewrites a WebAssembly binary so that its linear memory can grow to at most `maxPages`.
 *
 * V8 lets a memory defined by the module grow to its declared maximum, or to 4 GiB without
 * one, and worker `resourceLimits` do not count it. Lowering the maximum in the memory
 * section makes `memory.grow` fail (return -1) at the cap. An imported memory is left as
 * declared: the host supplies it with a maximum of at most `maxPages`.
 *
 * Raises INVALID_ARGUMENT for a malformed binary, a shared or 64-bit memory, or an initial
 * size above the cap.
 */
export function capModuleMemory(binary: Uint8Array, maxPages: number): CappedModule {
  const reader = new ByteReader(binary);
  if (binary.length < 8 || reader.u32le() !== 0x6d736100 || reader.u32le() !== 1) {
    throw invalid("it is not a WebAssembly binary (magic number or version 1 missing)");
  }
  const parts: Uint8Array[] = [binary.subarray(0, 8)];
  let importedMemory: ImportedMemoryLimits | undefined;
  while (!reader.done()) {
    const start = reader.offset;
    const id = reader.byte();
    const size = reader.leb();
    const payloadStart = reader.offset;
    const payloadEnd = payloadStart + size;
    if (payloadEnd > binary.length) throw invalid("a section runs past the end of the binary");
    const payload = new ByteReader(binary.subarray(payloadStart, payloadEnd));
    if (id === sectionImport) {
      importedMemory = readImportedMemory(payload, maxPages);
    }
    if (id === sectionMemory) {
      const rewritten = rewriteMemorySection(payload, maxPages);
      parts.push(Uint8Array.of(sectionMemory, ...encodeLeb(rewritten.length)), rewritten);
    } else {
      parts.push(binary.subarray(start, payloadEnd));
    }
    reader.offset = payloadEnd;
  }
  return { bytes: concat(parts), importedMemory };
}

function readImportedMemory(
  section: ByteReader,
  maxPages: number,
): ImportedMemoryLimits | undefined {
  let found: ImportedMemoryLimits | undefined;
  const count = section.leb();
  for (let i = 0; i < count; i++) {
    const module = section.name();
    const name = section.name();
    const kind = section.byte();
    if (kind === 0x00) {
      section.leb();
    } else if (kind === 0x01) {
      section.byte();
      readLimits(section, false);
    } else if (kind === 0x02) {
      const limits = readLimits(section, true);
      checkInitial(limits.initial, maxPages);
      found = {
        module,
        name,
        initialPages: limits.initial,
        maximumPages: Math.min(limits.maximum ?? maxPages, maxPages),
      };
    } else if (kind === 0x03) {
      section.byte();
      section.byte();
    } else if (kind === 0x04) {
      section.byte();
      section.leb();
    } else {
      throw invalid(`an import has the unknown kind ${kind}`);
    }
  }
  return found;
}

function rewriteMemorySection(section: ByteReader, maxPages: number): Uint8Array {
  const count = section.leb();
  const out: number[] = [...encodeLeb(count)];
  for (let i = 0; i < count; i++) {
    const limits = readLimits(section, true);
    checkInitial(limits.initial, maxPages);
    const maximum = Math.min(limits.maximum ?? maxPages, maxPages);
    out.push(limitsHasMaximum, ...encodeLeb(limits.initial), ...encodeLeb(maximum));
  }
  return Uint8Array.from(out);
}

function readLimits(reader: ByteReader, isMemory: boolean): { initial: number; maximum?: number } {
  const flags = reader.byte();
  if (isMemory && (flags & limitsShared) !== 0) {
    throw invalid("shared memories are not supported");
  }
  if (isMemory && (flags & limitsMemory64) !== 0) {
    throw invalid("64-bit memories are not supported");
  }
  const initial = reader.leb();
  if ((flags & limitsHasMaximum) === 0) return { initial };
  return { initial, maximum: reader.leb() };
}

function checkInitial(initialPages: number, maxPages: number): void {
  if (initialPages > maxPages) {
    throw new CloisterError(
      "RESOURCE_EXHAUSTED",
      `the module's initial memory of ${initialPages * wasmPageBytes} bytes is above the ` +
        `memory limit of ${maxPages * wasmPageBytes} bytes; raise memoryBytes or shrink the module`,
    );
  }
}

function invalid(reason: string): CloisterError {
  return new CloisterError("INVALID_ARGUMENT", `invalid WebAssembly module: ${reason}`);
}

function encodeLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const low = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

class ByteReader {
  offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.offset >= this.bytes.length;
  }

  byte(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw invalid("the binary ends in the middle of a section");
    this.offset += 1;
    return value;
  }

  u32le(): number {
    const value = this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24);
    return value >>> 0;
  }

  /** Reads an unsigned LEB128 number of at most 32 bits. */
  leb(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw invalid("a LEB128 number is longer than 5 bytes");
  }

  name(): string {
    const length = this.leb();
    const end = this.offset + length;
    if (end > this.bytes.length) throw invalid("a name runs past the end of its section");
    const text = Buffer.from(this.bytes.subarray(this.offset, end)).toString("utf8");
    this.offset = end;
    return text;
  }
}
