import type { GuestOutput } from "./staged-files.ts";

/** The reason a guest file operation failed. */
export type GuestFileFailure =
  | "slot-not-granted"
  | "output-already-created"
  | "bad-handle"
  | "not-readable"
  | "not-writable"
  | "too-many-files"
  | "output-limit";

/** A failed guest file operation; executors turn it into the guest's own error convention. */
export class GuestFileError extends Error {
  constructor(
    readonly failure: GuestFileFailure,
    message: string,
  ) {
    super(message);
    this.name = "GuestFileError";
  }
}

/** First handle of an output; WAMR marks write handles with bit 30. */
export const outputHandleBase = 0x40000000;
/** Read handles are 1 to 1023, as in Teaclave's WAMR executor. */
const maxReadHandle = 1023;

interface ReadFile {
  readonly data: Uint8Array;
  position: number;
}

interface WriteFile {
  readonly slot: string;
  readonly chunks: Uint8Array[];
  closed: boolean;
}

/**
 * The guest side of the file bridge: a handle table over the staged inputs and the outputs
 * being written, with Teaclave's handle rules. Each output may contain at most
 * `outputLimitBytes`. A write past it fails and is recorded in `limitExceeded`, so the host
 * can fail the run even if the guest ignores the error.
 */
export class GuestFiles {
  readonly #inputs: ReadonlyMap<string, Uint8Array>;
  readonly #outputNames: ReadonlySet<string>;
  readonly #outputLimitBytes: number;
  readonly #reads = new Map<number, ReadFile>();
  readonly #writes = new Map<number, WriteFile>();
  readonly #created: WriteFile[] = [];
  #outputBytes = new Map<string, number>();
  #nextOutputSeq = 0;
  /** The slot whose output went past its limit, if any. */
  limitExceeded: string | undefined;

  constructor(
    inputs: Readonly<Record<string, Uint8Array>>,
    outputNames: readonly string[],
    outputLimitBytes: number,
  ) {
    this.#inputs = new Map(Object.entries(inputs));
    this.#outputNames = new Set(outputNames);
    this.#outputLimitBytes = outputLimitBytes;
  }

  openInput(slot: string): number {
    const data = this.#inputs.get(slot);
    if (data === undefined) {
      throw new GuestFileError(
        "slot-not-granted",
        `input slot "${slot}" is not granted to this run`,
      );
    }
    for (let handle = 1; handle <= maxReadHandle; handle++) {
      if (!this.#reads.has(handle)) {
        this.#reads.set(handle, { data, position: 0 });
        return handle;
      }
    }
    throw new GuestFileError("too-many-files", `more than ${maxReadHandle} inputs are open`);
  }

  createOutput(slot: string): number {
    if (!this.#outputNames.has(slot)) {
      throw new GuestFileError(
        "slot-not-granted",
        `output slot "${slot}" is not granted to this run`,
      );
    }
    if (this.#outputBytes.has(slot)) {
      throw new GuestFileError(
        "output-already-created",
        `output slot "${slot}" was already created`,
      );
    }
    const handle = (outputHandleBase | this.#nextOutputSeq) >>> 0;
    this.#nextOutputSeq += 1;
    const file: WriteFile = { slot, chunks: [], closed: false };
    this.#writes.set(handle, file);
    this.#created.push(file);
    this.#outputBytes.set(slot, 0);
    return handle;
  }

  /** Reads up to `maxBytes`; an empty result means the end of the input. */
  read(handle: number, maxBytes: number): Uint8Array {
    const file = this.#readFile(handle);
    const end = Math.min(file.data.length, file.position + Math.max(0, maxBytes));
    const bytes = file.data.subarray(file.position, end);
    file.position = end;
    return bytes;
  }

  /** Reads through the next newline, which the result includes, or to the end of the input. */
  readLine(handle: number): Uint8Array {
    const file = this.#readFile(handle);
    const newline = file.data.indexOf(0x0a, file.position);
    const end = newline === -1 ? file.data.length : newline + 1;
    const bytes = file.data.subarray(file.position, end);
    file.position = end;
    return bytes;
  }

  write(handle: number, bytes: Uint8Array): void {
    const file = this.#writes.get(handle);
    if (file === undefined) {
      const reason = this.#reads.has(handle) ? "not-writable" : "bad-handle";
      throw new GuestFileError(reason, `handle ${handle} is not an open output`);
    }
    if (file.closed) throw new GuestFileError("bad-handle", `output "${file.slot}" is closed`);
    const written = (this.#outputBytes.get(file.slot) ?? 0) + bytes.length;
    if (written > this.#outputLimitBytes) {
      this.limitExceeded ??= file.slot;
      throw new GuestFileError(
        "output-limit",
        `output "${file.slot}" exceeds its limit of ${this.#outputLimitBytes} bytes`,
      );
    }
    this.#outputBytes.set(file.slot, written);
    file.chunks.push(bytes.slice());
  }

  close(handle: number): void {
    if (this.#reads.delete(handle)) return;
    const file = this.#writes.get(handle);
    if (file === undefined) throw new GuestFileError("bad-handle", `handle ${handle} is not open`);
    file.closed = true;
    this.#writes.delete(handle);
  }

  /** Returns every output the guest created, with its bytes, in creation order. */
  outputs(): GuestOutput[] {
    return this.#created.map((file) => ({ slot: file.slot, data: Buffer.concat(file.chunks) }));
  }

  #readFile(handle: number): ReadFile {
    const file = this.#reads.get(handle);
    if (file !== undefined) return file;
    const reason = this.#writes.has(handle) ? "not-readable" : "bad-handle";
    throw new GuestFileError(reason, `handle ${handle} is not an open input`);
  }
}
