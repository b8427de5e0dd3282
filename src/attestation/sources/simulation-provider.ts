import type { KeyObject } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import type { Evidence, EvidenceProvider } from "../evidence.ts";
import { loadSimulationKey, type SimulationKey } from "../simulation/attestation-key.ts";
import { measureCode } from "../simulation/code-measurement.ts";
import {
  SIMULATION_NOTICE,
  createSimulatedEvidence,
  encodeSimulatedEvidence,
} from "../simulation/simulated-report.ts";

export interface SimulationProviderOptions {
  /** Directory of the simulation key file (created with mode 0700 when missing). */
  readonly dataDirectory: string;
  /** Measurement to report; default: measureCode() of this repository. */
  readonly measurement?: Uint8Array;
  /** Clock for the report timestamp; default: the wall clock. */
  readonly clock?: () => Date;
}

/**
 * Simulated evidence for development and CI: a local key signs a report that binds the
 * report data and a measurement of the running code. It gives no hardware protection.
 */
export class SimulationEvidenceProvider implements EvidenceProvider {
  readonly kind = "simulation";
  /** Says what this provider's evidence is worth; callers should log it at start. */
  readonly notice = SIMULATION_NOTICE;
  private readonly key: SimulationKey;
  private readonly measurement: Uint8Array;
  private readonly clock: () => Date;

  constructor(options: SimulationProviderOptions) {
    this.key = loadSimulationKey(options.dataDirectory);
    this.measurement = options.measurement ?? measureCode();
    this.clock = options.clock ?? (() => new Date());
  }

  /** The public key verifiers must trust to accept this provider's evidence. */
  get publicKey(): KeyObject {
    return this.key.publicKey;
  }

  async getEvidence(reportData: Uint8Array): Promise<Evidence> {
    checkReportData(reportData);
    const evidence = createSimulatedEvidence(this.key, this.measurement, reportData, this.clock());
    return { kind: "simulation", data: encodeSimulatedEvidence(evidence) };
  }
}

/** Throws INVALID_ARGUMENT unless `reportData` is exactly 64 bytes. */
export function checkReportData(reportData: Uint8Array): void {
  if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `report data must be exactly 64 bytes, not ${reportData?.length ?? 0}: pad or hash it`,
    );
  }
}
