import { createHash } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { measureCode, parseEnclaveInfo, verifyAuditorSignatures } from "../attestation/index.ts";
import type { AcceptedIdentity } from "../attestation/index.ts";
import { CloisterError } from "../common/errors.ts";
import { serviceNames } from "./service-topology.ts";
import type { ServiceName } from "./service-topology.ts";

/** A signed identity list: Teaclave's enclave_info.toml and its auditors' signatures. */
export interface IdentityListFiles {
  readonly enclaveInfoPath: string;
  /** Auditor RSA public keys in PEM, one file each. */
  readonly auditorKeyPaths: readonly string[];
  /** Signature files (`openssl dgst -sha256 -sign`), one per auditor that signed. */
  readonly signaturePaths: readonly string[];
  /** Minimum number of distinct auditors. Default: every key. */
  readonly threshold?: number;
}

/**
 * Computes a service's simulated measurement (hex): SHA-256 over the 32-byte code
 * measurement followed by the UTF-8 service name, so that services running the same code differ
 * as Teaclave's enclaves did by MRENCLAVE.
 */
export function simulatedServiceMeasurement(
  service: ServiceName,
  codeMeasurement: Uint8Array = measureCode(),
): string {
  return createHash("sha256").update(codeMeasurement).update(service, "utf8").digest("hex");
}

/** Returns the hex SHA-256 of a simulation key's SPKI, which stands for MRSIGNER in the list. */
export function simulationSignerDigest(simulationKey: KeyObject): string {
  return createHash("sha256")
    .update(simulationKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** Computes the accepted identity of every service in simulation mode. */
export function computedIdentities(
  codeMeasurement: Uint8Array = measureCode(),
): Map<ServiceName, AcceptedIdentity> {
  return new Map(
    serviceNames.map((service) => [
      service,
      { measurement: simulatedServiceMeasurement(service, codeMeasurement) },
    ]),
  );
}

/**
 * Writes the enclave_info.toml of a simulated deployment: `mr_enclave` is each service's
 * simulated measurement and `mr_signer` the digest of the simulation key.
 */
export function simulatedEnclaveInfo(
  simulationKey: KeyObject,
  codeMeasurement: Uint8Array = measureCode(),
): string {
  const signer = simulationSignerDigest(simulationKey);
  return serviceNames
    .map(
      (service) =>
        `[teaclave_${service}_service]\n` +
        `mr_enclave = "${simulatedServiceMeasurement(service, codeMeasurement)}"\n` +
        `mr_signer = "${signer}"\n`,
    )
    .join("\n");
}

/**
 * Loads a signed identity list for a simulated deployment. Throws when fewer than the
 * threshold of distinct auditors signed the exact file, or when a table names another
 * simulation key. Also throws when a local service's entry is missing or differs from its own
 * measurement, because then the list was made for other code.
 */
export async function loadIdentityList(
  files: IdentityListFiles,
  simulationKey: KeyObject,
  localServices: Iterable<ServiceName>,
  codeMeasurement: Uint8Array = measureCode(),
): Promise<Map<ServiceName, AcceptedIdentity>> {
  const path = files.enclaveInfoPath;
  const content = await readFile(path);
  const publicKeys = await Promise.all(files.auditorKeyPaths.map((key) => readFile(key, "utf8")));
  const signatures = await Promise.all(files.signaturePaths.map((file) => readFile(file)));
  if (publicKeys.length === 0) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `identity list ${path} has no auditor keys: pass --auditor-key for each auditor`,
    );
  }
  try {
    verifyAuditorSignatures({
      content,
      publicKeys,
      signatures,
      ...(files.threshold === undefined ? {} : { threshold: files.threshold }),
    });
  } catch (error) {
    const detail =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
    throw new CloisterError(
      CloisterError.is(error) ? error.code : "INTEGRITY",
      `identity list ${path} failed the auditor check` +
        (detail === "" ? "" : ` (${detail})`) +
        ": have the auditors sign the exact file again",
      { cause: error },
    );
  }

  const tables = parseEnclaveInfo(content.toString("utf8"));
  const signer = simulationSignerDigest(simulationKey);
  const identities = new Map<ServiceName, AcceptedIdentity>();
  for (const service of serviceNames) {
    const entry = tables.get(`teaclave_${service}_service`);
    if (entry === undefined) continue;
    if (entry.mrSigner !== signer) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `identity list ${path} names signer ${entry.mrSigner} for ${service}, but the ` +
          `simulation key's digest is ${signer}: regenerate the list for this data directory`,
      );
    }
    identities.set(service, { measurement: entry.mrEnclave });
  }
  for (const service of localServices) {
    const own = simulatedServiceMeasurement(service, codeMeasurement);
    const listed = identities.get(service)?.measurement;
    if (listed !== own) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `identity list ${path} ` +
          (listed === undefined
            ? `has no entry for ${service}`
            : `names ${listed} for ${service}`) +
          `, but this build measures ${own}: regenerate and re-sign the list`,
      );
    }
  }
  return identities;
}
