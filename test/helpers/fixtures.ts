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

/** The arguments Teaclave trained `functions/gbdt_training/expected_model.txt` with. */
export const gbdtTrainingFixtureArguments = {
  feature_size: 4,
  max_depth: 4,
  iterations: 100,
  shrinkage: 0.1,
  feature_sample_ratio: 1.0,
  data_sample_ratio: 1.0,
  min_leaf_size: 1,
  loss: "LAD",
  training_optimization_level: 2,
};
