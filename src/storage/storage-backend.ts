/**
 * The storage interface of every service: versioned records, atomic write batches, durable
 * queues and the audit log. SQLite implements it for one machine; a PostgreSQL backend can
 * implement it for many.
 */

/** A stored record. `value` is JSON text; `version` starts at 1 and grows on every write. */
export interface StoredRecord {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

/** One write of a batch. A missing `value` deletes the record. */
export interface RecordWrite {
  readonly key: string;
  readonly value?: string;
  /** Required current version: 0 means the record must not exist; undefined skips the check. */
  readonly expectedVersion?: number;
}

/** One line of the audit log, as Teaclave's `Entry`. */
export interface AuditEntry {
  /** Microseconds since the Unix epoch. */
  readonly microsecond: bigint;
  /** A 16-byte IPv6 address; IPv4 is stored IPv4-compatible. */
  readonly ip: Uint8Array;
  readonly user: string;
  readonly message: string;
  readonly result: boolean;
}

/** Writes that commit together or not at all. */
export interface WriteBatch {
  readonly writes?: readonly RecordWrite[];
  readonly enqueue?: readonly { readonly queue: string; readonly value: string }[];
  /** Queue messages to acknowledge (remove) in the same transaction. */
  readonly acknowledge?: readonly { readonly queue: string; readonly messageId: number }[];
  readonly audit?: readonly AuditEntry[];
}

/** A queue message claimed by one consumer until its lease ends. */
export interface QueueClaim {
  readonly queue: string;
  readonly messageId: number;
  readonly value: string;
}

export interface StorageBackend {
  get(key: string): Promise<StoredRecord | undefined>;
  /** Lists the records whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredRecord[]>;
  /**
   * Commits a batch atomically. Raises CloisterError ABORTED when an expected version does
   * not match, and nothing of the batch is written then.
   */
  commit(batch: WriteBatch): Promise<void>;
  /**
   * Claims the oldest visible message of any of `queues` for `leaseMs` milliseconds. A message
   * that is not acknowledged before its lease ends becomes visible again.
   */
  claim(
    queues: readonly string[],
    consumer: string,
    leaseMs: number,
  ): Promise<QueueClaim | undefined>;
  /** Number of messages of `queue`, claimed or not. */
  queueLength(queue: string): Promise<number>;
  /**
   * Resolves when a commit through this backend object writes `key`, after `timeoutMs`, or
   * when `signal` aborts, whichever comes first. Commits by other processes that share the
   * database wake no watcher, so a caller that waits for them must also re-read on a timer.
   */
  watch(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Returns matching audit entries, newest first. See `parseAuditQuery` for the syntax. */
  queryAudit(query: string, limit: number): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
