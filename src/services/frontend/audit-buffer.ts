import { isIPv4, isIPv6 } from "node:net";
import type { Logger } from "../../common/logger.ts";
import type { AuditEntry } from "../../storage/storage-backend.ts";

const flushIntervalMs = 500;
const maxBufferedEntries = 256;

/** Converts an address to Teaclave's 16-byte form; IPv4 becomes IPv4-compatible IPv6. */
export function addressToBytes(address: string): Uint8Array {
  const bytes = new Uint8Array(16);
  const plain =
    address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(plain)) {
    plain.split(".").forEach((part, index) => (bytes[12 + index] = Number(part)));
  } else if (isIPv6(plain)) {
    const [head = "", tail = ""] = plain.split("::");
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === "" ? [] : tail.split(":");
    const groups = [
      ...headGroups,
      ...new Array<string>(8 - headGroups.length - tailGroups.length).fill("0"),
      ...tailGroups,
    ];
    groups.forEach((group, index) => {
      const value = Number.parseInt(group, 16);
      bytes[index * 2] = value >> 8;
      bytes[index * 2 + 1] = value & 0xff;
    });
  }
  return bytes;
}

/**
 * Collects the frontend's audit entries and saves them in batches, at least every 500 ms,
 * so that auditing adds no storage round trip to each request.
 */
export class AuditBuffer {
  readonly #save: (entries: AuditEntry[]) => Promise<void>;
  readonly #logger: Logger;
  #entries: AuditEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(save: (entries: AuditEntry[]) => Promise<void>, logger: Logger) {
    this.#save = save;
    this.#logger = logger;
  }

  add(entry: AuditEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length >= maxBufferedEntries) {
      void this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Saves every buffered entry; resolves when they are stored. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const entries = this.#entries;
    this.#entries = [];
    if (entries.length > 0) {
      this.#flushing = this.#flushing.then(async () => {
        try {
          await this.#save(entries);
        } catch (error) {
          this.#logger.error({ err: error, count: entries.length }, "failed to save audit entries");
        }
      });
    }
    await this.#flushing;
  }
}
