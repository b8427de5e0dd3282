import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ServerVerifier } from "../transport/rpc-client.ts";
import { attestedServerVerifier } from "./server-verification.ts";

/**
 * Creates a verifier for a platform in simulation mode whose attestation files the client can read:
 * `tls/simulation-attestation-key.pub.pem` (the key to trust) and `tls/measurement.txt` (the
 * code measurement to accept), as `cloister serve` writes them into its data directory.
 * Simulated evidence proves which code runs but gives no hardware protection.
 */
export async function simulationVerifierFromDataDirectory(
  dataDirectory: string,
): Promise<ServerVerifier> {
  const keyPem = await readFile(
    join(dataDirectory, "tls", "simulation-attestation-key.pub.pem"),
    "utf8",
  );
  const measurement = (
    await readFile(join(dataDirectory, "tls", "measurement.txt"), "utf8")
  ).trim();
  return simulationVerifier(keyPem, measurement);
}

/** Creates a verifier that trusts one simulation key and accepts one code measurement (hex). */
export function simulationVerifier(simulationKeyPem: string, measurement: string): ServerVerifier {
  return attestedServerVerifier({
    trustAnchors: { simulation: [simulationKeyPem] },
    acceptedIdentities: [{ measurement }],
  });
}
