/**
 * The records that services keep in storage, as JSON. Binary fields are base64 or hex, and
 * secrets (file keys) are sealed with the platform key before they reach storage.
 */

export interface UserRecord {
  readonly id: string;
  /** Teaclave's role string, for example `DataOwner-bank1`. */
  readonly role: string;
  /** Argon2id PHC string. */
  readonly passwordHash: string;
  /** Grows on every password or role change; tokens of an older generation are rejected. */
  readonly tokenGeneration: number;
}

export interface FunctionArgumentRecord {
  readonly key: string;
  readonly defaultValue: string;
  readonly allowOverwrite: boolean;
}

export interface FunctionSlotRecord {
  readonly name: string;
  readonly description: string;
  readonly optional: boolean;
}

export interface FunctionRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly executorType: string;
  readonly public: boolean;
  /** The function's code, base64. */
  readonly payload: string;
  readonly arguments: readonly FunctionArgumentRecord[];
  readonly inputs: readonly FunctionSlotRecord[];
  readonly outputs: readonly FunctionSlotRecord[];
  readonly owner: string;
  readonly userAllowlist: readonly string[];
  /** Maximum number of invocations; null is unlimited. */
  readonly usageQuota: number | null;
  /** A disabled function keeps its record but no new task may use it. */
  readonly disabled: boolean;
}

export interface UsageRecord {
  readonly functionId: string;
  readonly useCount: number;
}

export interface DataRecord {
  readonly id: string;
  readonly kind: "input" | "output";
  readonly url: string;
  /** The 16-byte integrity tag as hex; null for an output that no task has written yet. */
  readonly cmac: string | null;
  /** The FileCryptoInfo as JSON, sealed with the platform key, base64. */
  readonly sealedCrypto: string;
  readonly owners: readonly string[];
  /** True for a fusion output, whose key only the platform holds. */
  readonly fusion: boolean;
  /** The task an output is assigned to; an output is written by one task at most. */
  readonly taskId: string | null;
}

export type TaskResultRecord =
  | {
      readonly ok: {
        readonly returnValue: string;
        readonly tags: Readonly<Record<string, string>>;
        readonly log: readonly string[];
      };
    }
  | { readonly err: string };

export interface TaskRecord {
  readonly id: string;
  readonly creator: string;
  readonly functionId: string;
  readonly functionOwner: string;
  /** SHA-256 of the function's definition when the task was created; invoke checks it. */
  readonly functionDigest: string;
  /** The final argument object, with defaults filled in. */
  readonly functionArguments: Readonly<Record<string, unknown>>;
  readonly executor: string;
  readonly inputsOwnership: Readonly<Record<string, readonly string[]>>;
  readonly outputsOwnership: Readonly<Record<string, readonly string[]>>;
  readonly participants: readonly string[];
  readonly approvedUsers: readonly string[];
  readonly assignedInputs: Readonly<Record<string, string>>;
  readonly assignedOutputs: Readonly<Record<string, string>>;
  /** Teaclave's TaskStatus number. */
  readonly status: number;
  readonly result: TaskResultRecord | null;
  /** The executor that pulled the task, while it is staged or running. */
  readonly executorId: string | null;
  readonly cancelRequested: boolean;
  /** Milliseconds since the epoch of the last status change. */
  readonly updatedAtMs: number;
}

/** Storage keys of each record kind. */
export const recordKeys = {
  user: (id: string) => `users/${id}`,
  function: (id: string) => `functions/${id}`,
  usage: (functionId: string) => `usage/${functionId}`,
  data: (id: string) => `data/${id}`,
  task: (id: string) => `tasks/${id}`,
  executor: (id: string) => `executors/${id}`,
  jwtKeys: () => "system/jwt-keys",
} as const;

/** Queue of staged tasks for one executor name, for example `staged-task/builtin`. */
export function stagedTaskQueue(executor: string): string {
  return `staged-task/${executor}`;
}
