/** The formats of evidence Cloister produces and verifies. */
export type EvidenceKind = "sgx-dcap-quote" | "tdx-dcap-quote" | "sev-snp-report" | "simulation";

/** Signed evidence from a TEE, as a provider returns it and a verifier takes it. */
export interface Evidence {
  readonly kind: EvidenceKind;
  /** The quote, report or simulated report bytes. */
  readonly data: Uint8Array;
  /** DER certificates that came with the evidence, for example from an SEV-SNP `auxblob`. */
  readonly certificates?: {
    readonly vcek?: Uint8Array;
    readonly vlek?: Uint8Array;
    readonly ask?: Uint8Array;
    readonly ark?: Uint8Array;
  };
}

/** A source of evidence: one kind of TEE, or the simulation for development. */
export interface EvidenceProvider {
  /** The evidence format `getEvidence` returns. */
  readonly kind: EvidenceKind;
  /** Returns evidence whose report data is `reportData` (exactly 64 bytes). */
  getEvidence(reportData: Uint8Array): Promise<Evidence>;
}
