import { join } from "node:path";
import { CloisterError } from "../common/errors.ts";
import {
  GramineEvidenceProvider,
  SimulationEvidenceProvider,
  TsmEvidenceProvider,
} from "../attestation/index.ts";
import type { EvidenceProvider } from "../attestation/index.ts";

/** The source of a platform's attestation evidence. */
export type TeeMode = "simulation" | "tsm" | "gramine";

export const teeModes: readonly TeeMode[] = ["simulation", "tsm", "gramine"];

/**
 * Creates the evidence provider of a platform: simulation for development (no hardware
 * protection), configfs-tsm inside a TDX or SEV-SNP confidential VM, or Gramine-SGX.
 */
export async function createEvidenceProvider(
  mode: TeeMode,
  dataDirectory: string,
): Promise<EvidenceProvider> {
  switch (mode) {
    case "simulation":
      return new SimulationEvidenceProvider({ dataDirectory: join(dataDirectory, "attestation") });
    case "tsm":
      return TsmEvidenceProvider.open();
    case "gramine":
      return new GramineEvidenceProvider({});
    default:
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `invalid TEE mode ${JSON.stringify(mode)}: expected ${teeModes.join(", ")}`,
      );
  }
}
