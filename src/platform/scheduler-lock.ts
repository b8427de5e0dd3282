import Database from "better-sqlite3";
import { CloisterError } from "../common/errors.ts";

/** A held lock; `release` lets another process take it. */
export interface SchedulerLock {
  release(): void;
}

/**
 * Takes the data directory's scheduler lock, so that at most one scheduler runs on one
 * database. At start a scheduler may fail the tasks of executors it believes dead, which is
 * safe only when no other scheduler hands out tasks from the same database.
 *
 * The lock is an exclusive SQLite transaction on its own file. SQLite holds it with a POSIX
 * file lock, which the kernel drops when the process dies, so a killed process leaves no
 * stale lock behind.
 */
export function acquireSchedulerLock(path: string, dataDirectory: string): SchedulerLock {
  const database = new Database(path, { timeout: 0 });
  try {
    database.pragma("locking_mode = EXCLUSIVE");
    database.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    database.close();
    const busy = (error as { code?: string }).code?.startsWith("SQLITE_BUSY") === true;
    if (!busy) throw error;
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `another process already runs the scheduler on data directory ${dataDirectory}: stop ` +
        "it first, or start this one with another --data-dir or without the scheduler",
    );
  }
  return {
    release() {
      if (!database.open) return;
      database.exec("ROLLBACK");
      database.close();
    },
  };
}
