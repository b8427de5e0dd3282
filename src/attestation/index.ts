// Public surface of Cloister's attestation library: evidence verification (Intel SGX and TDX
// DCAP quotes, AMD SEV-SNP reports, simulated evidence), evidence sources, attested
// certificates and signed identity lists. Nothing here uses the network or the wall clock:
// collateral and `now` always come from the caller.
export type { Evidence, EvidenceKind, EvidenceProvider } from "./evidence.ts";
export type {
  Rejection,
  RejectionCode,
  SgxMeasurements,
  SimulationMeasurements,
  SnpMeasurements,
  TcbStatus,
  TdxMeasurements,
  TeeKind,
  ValidityWindow,
  Verdict,
} from "./verdict.ts";
export { rejectionCodes } from "./verdict.ts";
export type { SnpMinimumTcb, VerificationPolicy } from "./policy.ts";
export { AMD_ARK_KEYS, INTEL_SGX_ROOT_CA_KEY, type TrustAnchor } from "./trust-anchors.ts";
export { verifyEvidence, type VerifyEvidenceOptions } from "./verify-evidence.ts";
export { verifyDcapQuote, type DcapVerifyOptions } from "./intel/verify-quote.ts";
export {
  intelCollateralFromBundle,
  signedCollateralFromPcs,
  type IntelCollateral,
  type SignedCollateral,
} from "./intel/collateral.ts";
export {
  verifySnpReport,
  type SnpCollateral,
  type SnpVerifyOptions,
} from "./amd/verify-snp-report.ts";
export { parsePemCertificates } from "./certificate-chain.ts";
export { verifySimulatedReport, SIMULATION_NOTICE } from "./simulation/simulated-report.ts";
export { measureCode } from "./simulation/code-measurement.ts";
export {
  SimulationEvidenceProvider,
  type SimulationProviderOptions,
} from "./sources/simulation-provider.ts";
export {
  TsmEvidenceProvider,
  TSM_REPORT_DIRECTORY,
  type TsmFileSystem,
  type TsmProviderOptions,
} from "./sources/tsm-provider.ts";
export {
  GramineEvidenceProvider,
  GRAMINE_ATTESTATION_DIRECTORY,
  type GramineProviderOptions,
} from "./sources/gramine-provider.ts";
export {
  createAttestedCertificate,
  type AttestedCertificate,
  type AttestedCertificateOptions,
} from "./certificate/create-attested-certificate.ts";
export {
  PEER_REJECTED_MESSAGE,
  certificateFingerprint,
  verifyAttestedCertificate,
  type AcceptedIdentity,
  type VerifyAttestedCertificateOptions,
} from "./certificate/verify-attested-certificate.ts";
export { bindingReportData } from "./certificate/key-binding.ts";
export {
  AttestedCertificateVerifier,
  type VerifierCacheOptions,
} from "./certificate/attested-certificate-verifier.ts";
export {
  acceptedIdentitiesFor,
  parseEnclaveInfo,
  type EnclaveIdentity,
} from "./identity/enclave-info.ts";
export {
  AUDITOR_CHECK_FAILED,
  verifyAuditorSignatures,
  type AuditorSignatureCheck,
} from "./identity/auditor-signatures.ts";
