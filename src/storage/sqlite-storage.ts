import Database from "better-sqlite3";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { CloisterError } from "../common/errors.ts";
import { parseAuditQuery } from "./audit-query.ts";
import { RecordWatchers } from "./record-watchers.ts";
import type {
  AuditEntry,
  QueueClaim,
  StorageBackend,
  StoredRecord,
  WriteBatch,
} from "./storage-backend.ts";

const schema = `
CREATE TABLE IF NOT EXISTS records (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  value TEXT NOT NULL,
  visible_at_ms INTEGER NOT NULL,
  consumer TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_by_queue ON queue_messages (queue, visible_at_ms, id);
CREATE TABLE IF NOT EXISTS audit_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  microsecond INTEGER NOT NULL,
  ip BLOB NOT NULL,
  user TEXT NOT NULL,
  message TEXT NOT NULL,
  result INTEGER NOT NULL
);
`;

interface RecordRow {
  key: string;
  value: string;
  version: number;
}

interface AuditRow {
  microsecond: bigint;
  ip: Buffer;
  user: string;
  message: string;
  result: bigint;
}

/**
 * The embedded storage backend: one SQLite file in WAL mode. better-sqlite3 is synchronous,
 * and a single connection serialises all writes, so every batch is one transaction.
 */
export class SqliteStorage implements StorageBackend {
  readonly #db: SqliteDatabase;
  readonly #getRecord: Statement<[string], RecordRow>;
  readonly #listRecords: Statement<[string, string], RecordRow>;
  readonly #insertRecord: Statement<[string, string]>;
  readonly #updateRecord: Statement<[string, string]>;
  readonly #deleteRecord: Statement<[string]>;
  readonly #enqueue: Statement<[string, string, number]>;
  readonly #claimCandidate: Statement<[string, number], { id: number }>;
  readonly #lease: Statement<
    [number, string, number, number],
    { id: number; queue: string; value: string }
  >;
  readonly #acknowledge: Statement<[number, string]>;
  readonly #queueLength: Statement<[string], { count: number }>;
  readonly #appendAudit: Statement<[bigint, Buffer, string, string, number]>;
  readonly #commitBatch: (batch: WriteBatch) => void;
  readonly #watchers = new RecordWatchers();

  /** Opens (or creates) the database file; `":memory:"` gives a private in-memory store. */
  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    // NORMAL keeps every committed transaction across a process crash; only a power loss
    // may drop the last ones.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.defaultSafeIntegers(false);
    this.#db.exec(schema);
    this.#getRecord = this.#db.prepare("SELECT key, value, version FROM records WHERE key = ?");
    this.#listRecords = this.#db.prepare(
      "SELECT key, value, version FROM records WHERE key >= ? AND key < ? ORDER BY key",
    );
    this.#insertRecord = this.#db.prepare(
      "INSERT INTO records (key, value, version) VALUES (?, ?, 1)",
    );
    this.#updateRecord = this.#db.prepare(
      "UPDATE records SET value = ?, version = version + 1 WHERE key = ?",
    );
    this.#deleteRecord = this.#db.prepare("DELETE FROM records WHERE key = ?");
    this.#enqueue = this.#db.prepare(
      "INSERT INTO queue_messages (queue, value, visible_at_ms) VALUES (?, ?, ?)",
    );
    // A read finds the candidate without taking the write lock, which most claims of idle
    // workers need not take. The lease then checks visibility again, so a message that
    // another connection leased in between is not claimed twice. The queue names arrive as
    // one JSON array.
    this.#claimCandidate = this.#db.prepare(
      "SELECT id FROM queue_messages WHERE queue IN (SELECT value FROM json_each(?)) " +
        "AND visible_at_ms <= ? ORDER BY id LIMIT 1",
    );
    this.#lease = this.#db.prepare(
      "UPDATE queue_messages SET visible_at_ms = ?, consumer = ? " +
        "WHERE id = ? AND visible_at_ms <= ? RETURNING id, queue, value",
    );
    this.#acknowledge = this.#db.prepare("DELETE FROM queue_messages WHERE id = ? AND queue = ?");
    this.#queueLength = this.#db.prepare(
      "SELECT count(*) AS count FROM queue_messages WHERE queue = ?",
    );
    this.#appendAudit = this.#db.prepare(
      "INSERT INTO audit_entries (microsecond, ip, user, message, result) VALUES (?, ?, ?, ?, ?)",
    );
    this.#commitBatch = this.#db.transaction((batch: WriteBatch) => this.#applyBatch(batch));
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    return this.#getRecord.get(key);
  }

  async list(prefix: string): Promise<StoredRecord[]> {
    return this.#listRecords.all(prefix, prefix + "\uffff");
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.#commitBatch(batch);
    if (batch.writes !== undefined) this.#watchers.notify(batch.writes.map((write) => write.key));
  }

  watch(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#watchers.wait(key, timeoutMs, signal);
  }

  async claim(
    queues: readonly string[],
    consumer: string,
    leaseMs: number,
  ): Promise<QueueClaim | undefined> {
    if (queues.length === 0) return undefined;
    const now = Date.now();
    const queueList = JSON.stringify(queues);
    for (;;) {
      const candidate = this.#claimCandidate.get(queueList, now);
      if (candidate === undefined) return undefined;
      const claimed = this.#lease.get(now + leaseMs, consumer, candidate.id, now);
      if (claimed !== undefined) {
        return { queue: claimed.queue, messageId: claimed.id, value: claimed.value };
      }
    }
  }

  async queueLength(queue: string): Promise<number> {
    return this.#queueLength.get(queue)?.count ?? 0;
  }

  async queryAudit(query: string, limit: number): Promise<AuditEntry[]> {
    const conditions = parseAuditQuery(query);
    const clauses = conditions.map(
      (condition) =>
        `instr(lower(${condition.field === "user" ? "user" : "message"}), ?) ` +
        (condition.negated ? "= 0" : "> 0"),
    );
    const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
    const rows = this.#db
      .prepare(
        `SELECT microsecond, ip, user, message, result FROM audit_entries ${where} ` +
          "ORDER BY id DESC LIMIT ?",
      )
      .safeIntegers(true)
      .all(...conditions.map((condition) => condition.text), limit) as AuditRow[];
    return rows.map((row) => ({
      microsecond: row.microsecond,
      ip: new Uint8Array(row.ip),
      user: row.user,
      message: row.message,
      result: row.result !== 0n,
    }));
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #applyBatch(batch: WriteBatch): void {
    for (const write of batch.writes ?? []) {
      const current = this.#getRecord.get(write.key);
      if (
        write.expectedVersion !== undefined &&
        (current?.version ?? 0) !== write.expectedVersion
      ) {
        throw new CloisterError(
          "ABORTED",
          `record ${write.key} changed concurrently (version ${current?.version ?? 0}, ` +
            `expected ${write.expectedVersion}); retry the request`,
        );
      }
      if (write.value === undefined) {
        this.#deleteRecord.run(write.key);
      } else if (current === undefined) {
        this.#insertRecord.run(write.key, write.value);
      } else {
        this.#updateRecord.run(write.value, write.key);
      }
    }
    const now = Date.now();
    for (const message of batch.enqueue ?? []) {
      this.#enqueue.run(message.queue, message.value, now);
    }
    for (const { queue, messageId } of batch.acknowledge ?? []) {
      this.#acknowledge.run(messageId, queue);
    }
    for (const entry of batch.audit ?? []) {
      this.#appendAudit.run(
        entry.microsecond,
        Buffer.from(entry.ip),
        entry.user,
        entry.message,
        entry.result ? 1 : 0,
      );
    }
  }
}
