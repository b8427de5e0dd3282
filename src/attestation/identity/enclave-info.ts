// Teaclave's enclave_info.toml: one table per service, `[teaclave_<name>_service]`, with
// `mr_enclave` and `mr_signer` as 64 hex characters. The reader covers the TOML subset these
// files use: tables, `key = "basic string"` pairs, comments and blank lines.
import { CloisterError } from "../../common/errors.ts";
import type { AcceptedIdentity } from "../certificate/verify-attested-certificate.ts";

/** The measurements one service's enclave must have. */
export interface EnclaveIdentity {
  readonly mrEnclave: string;
  readonly mrSigner: string;
}

function invalid(line: number, message: string): CloisterError {
  return new CloisterError("INVALID_ARGUMENT", `enclave_info line ${line}: ${message}`);
}

/** Parses enclave_info.toml to a map from table name to identity (hex in lower case). */
export function parseEnclaveInfo(text: string): Map<string, EnclaveIdentity> {
  const tables = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const table = /^\[\s*([A-Za-z0-9_-]+)\s*\](\s*#.*)?$/.exec(line);
    if (table) {
      const name = table[1]!;
      if (tables.has(name)) throw invalid(lineNumber, `table [${name}] is defined twice`);
      current = new Map();
      tables.set(name, current);
      return;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*"([^"\\]*)"\s*(#.*)?$/.exec(line);
    if (!pair) throw invalid(lineNumber, 'expected [table] or key = "value"');
    if (!current) throw invalid(lineNumber, "key outside of a table");
    if (current.has(pair[1]!)) throw invalid(lineNumber, `key ${pair[1]} is defined twice`);
    current.set(pair[1]!, pair[2]!);
  });

  const identities = new Map<string, EnclaveIdentity>();
  for (const [name, entries] of tables) {
    const measurement = (key: string): string => {
      const value = entries.get(key);
      if (value === undefined || !/^[0-9a-fA-F]{64}$/.test(value)) {
        throw new CloisterError(
          "INVALID_ARGUMENT",
          `enclave_info [${name}] ${key} must be 64 hex characters: regenerate the file from the enclave build`,
        );
      }
      return value.toLowerCase();
    };
    identities.set(name, {
      mrEnclave: measurement("mr_enclave"),
      mrSigner: measurement("mr_signer"),
    });
  }
  return identities;
}

/** Returns the accepted identities of the named services (`teaclave_<name>_service` tables). */
export function acceptedIdentitiesFor(
  identities: ReadonlyMap<string, EnclaveIdentity>,
  serviceNames: readonly string[],
): AcceptedIdentity[] {
  return serviceNames.map((service) => {
    const identity = identities.get(`teaclave_${service}_service`);
    if (!identity) {
      throw new CloisterError(
        "NOT_FOUND",
        `enclave_info has no table [teaclave_${service}_service]: add the service's measurements`,
      );
    }
    return { mrEnclave: identity.mrEnclave, mrSigner: identity.mrSigner };
  });
}
