import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/** Root of this repository. */
export const repositoryRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The test vectors, copied into the repository from the shared fixture set. */
export const fixturesRoot = resolve(repositoryRoot, "test/fixtures");

/** Path of a file under the Teaclave fixtures, for example `functions/rsa_sign/key.der`. */
export function teaclaveFixture(relativePath: string): string {
  return resolve(fixturesRoot, "teaclave", relativePath);
}

/** Path of a file under the attestation fixtures. */
export function attestationFixture(relativePath: string): string {
  return resolve(fixturesRoot, "attestation", relativePath);
}
