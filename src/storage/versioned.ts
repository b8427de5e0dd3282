import { CloisterError } from "../common/errors.ts";
import type { RecordWrite, StorageBackend } from "./storage-backend.ts";

/** A decoded record with the version it was read at, for optimistic updates. */
export interface Versioned<T> {
  readonly value: T;
  readonly version: number;
}

/** Reads and decodes a JSON record. */
export async function readRecord<T>(
  storage: StorageBackend,
  key: string,
): Promise<Versioned<T> | undefined> {
  const stored = await storage.get(key);
  if (stored === undefined) return undefined;
  return { value: JSON.parse(stored.value) as T, version: stored.version };
}

/** Builds a write that replaces the record read as `current`, or creates it when `current` is undefined. */
export function writeRecord<T>(key: string, value: T, current?: Versioned<unknown>): RecordWrite {
  return { key, value: JSON.stringify(value), expectedVersion: current?.version ?? 0 };
}

/** Builds a write that deletes the record read as `current`. */
export function deleteRecord(key: string, current: Versioned<unknown>): RecordWrite {
  return { key, expectedVersion: current.version };
}

/**
 * Runs `attempt` again when it fails with ABORTED because another request changed a record
 * it read. Each attempt must read what it needs afresh.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxAttempts = 8): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt();
    } catch (error) {
      if (!CloisterError.is(error) || error.code !== "ABORTED" || attemptNumber >= maxAttempts) {
        throw error;
      }
    }
  }
}
