import {
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
} from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloisterError } from "../../common/errors.ts";

/** File name of the simulation attestation key inside the data directory. */
export const SIMULATION_KEY_FILE = "simulation-attestation-key.pem";

/** The simulation attestation key pair. It protects nothing against the host. */
export interface SimulationKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}

/**
 * Loads the ECDSA P-256 simulation key from `<dataDirectory>/simulation-attestation-key.pem`,
 * creating it (mode 0600, in a directory of mode 0700) on first use. Rejects a key file that
 * other users can read or write.
 */
export function loadSimulationKey(dataDirectory: string): SimulationKey {
  const path = join(dataDirectory, SIMULATION_KEY_FILE);
  let pem: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new CloisterError(
        "FAILED_PRECONDITION",
        `simulation key ${path} has mode ${mode.toString(8)}: run chmod 600 on it`,
      );
    }
    pem = readFileSync(path, "utf8");
  } catch (error) {
    if (!isMissing(error)) throw error;
    mkdirSync(dataDirectory, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    try {
      // "wx" fails when another process created the file first; then use that one.
      writeFileSync(path, pem, { mode: 0o600, flag: "wx" });
    } catch (writeError) {
      if ((writeError as NodeJS.ErrnoException).code !== "EEXIST") throw writeError;
      pem = readFileSync(path, "utf8");
    }
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `simulation key ${path} is not an ECDSA P-256 key`,
    );
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
