import { randomBytes } from "node:crypto";
import { CloisterError } from "../common/errors.ts";

/** The file encryption schemas of Teaclave's `FileCrypto`. */
export const fileCryptoSchemas = [
  "raw",
  "aes-gcm-128",
  "aes-gcm-256",
  "teaclave-file-128",
] as const;
export type FileCryptoSchema = (typeof fileCryptoSchemas)[number];

/** The validated encryption settings and key material of an input or output file. */
export type FileCrypto =
  | { readonly schema: "raw" }
  | {
      readonly schema: "aes-gcm-128" | "aes-gcm-256";
      readonly key: Uint8Array;
      readonly iv: Uint8Array;
    }
  | { readonly schema: "teaclave-file-128"; readonly key: Uint8Array };

/** Whether a file is read by a task or written by it. */
export type FileDirection = "input" | "output";

/** Key and IV lengths in bytes for each schema; raw takes neither. */
const keyLengths: Record<FileCryptoSchema, { key: number; iv: number }> = {
  raw: { key: 0, iv: 0 },
  "aes-gcm-128": { key: 16, iv: 12 },
  "aes-gcm-256": { key: 32, iv: 12 },
  "teaclave-file-128": { key: 16, iv: 0 },
};

function isSchema(value: string): value is FileCryptoSchema {
  return (fileCryptoSchemas as readonly string[]).includes(value);
}

function checkLength(schema: string, field: string, value: Uint8Array, expected: number): void {
  if (value.length !== expected) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid ${schema} ${field}: expected ${expected} bytes, got ${value.length}`,
    );
  }
}

/**
 * Validates a `FileCrypto` as registered (schema string, key and IV bytes) and returns the
 * typed form. Raises INVALID_ARGUMENT naming the schema, the field and the expected length;
 * `raw` is accepted only for inputs.
 */
export function parseFileCrypto(
  value: { readonly schema: string; readonly key?: Uint8Array; readonly iv?: Uint8Array },
  direction: FileDirection,
): FileCrypto {
  const { schema } = value;
  if (!isSchema(schema)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid file crypto schema "${schema}": expected one of ${fileCryptoSchemas.join(", ")}`,
    );
  }
  if (schema === "raw" && direction === "output") {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "invalid file crypto schema raw for an output: outputs must be encrypted, " +
        "use aes-gcm-128, aes-gcm-256 or teaclave-file-128",
    );
  }
  const key = value.key ?? new Uint8Array(0);
  const iv = value.iv ?? new Uint8Array(0);
  checkLength(schema, "key", key, keyLengths[schema].key);
  checkLength(schema, "iv", iv, keyLengths[schema].iv);
  switch (schema) {
    case "raw":
      return { schema };
    case "aes-gcm-128":
    case "aes-gcm-256":
      return { schema, key: Uint8Array.from(key), iv: Uint8Array.from(iv) };
    case "teaclave-file-128":
      return { schema, key: Uint8Array.from(key) };
  }
}

/**
 * Generates a FileCrypto with a random key (and IV), for files whose key only the platform
 * holds, such as fusion outputs. `raw` is rejected because it has no key.
 */
export function generateFileCrypto(schema: Exclude<FileCryptoSchema, "raw">): FileCrypto {
  const lengths = keyLengths[schema];
  if (lengths === undefined || lengths.key === 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid file crypto schema "${String(schema)}" for a generated key: ` +
        "use aes-gcm-128, aes-gcm-256 or teaclave-file-128",
    );
  }
  return parseFileCrypto(
    { schema, key: randomBytes(lengths.key), iv: randomBytes(lengths.iv) },
    "output",
  );
}
