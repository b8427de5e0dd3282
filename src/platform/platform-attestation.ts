import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  SIMULATION_NOTICE,
  SimulationEvidenceProvider,
  measureCode,
} from "../attestation/index.ts";
import type { AcceptedIdentity, EvidenceProvider } from "../attestation/index.ts";
import { CloisterError } from "../common/errors.ts";
import type { Logger } from "../common/logger.ts";
import { AttestedIdentity } from "./attested-identity.ts";
import type { DeploymentPlan } from "./deployment-plan.ts";
import { createEvidenceProvider } from "./evidence-provider.ts";
import type { TeeMode } from "./evidence-provider.ts";
import { ServicePeerVerifier } from "./internal-link-verifier.ts";
import type { PlatformConfig } from "./platform-config.ts";
import { platformPaths } from "./platform-config.ts";
import {
  computedIdentities,
  loadIdentityList,
  simulatedServiceMeasurement,
} from "./service-identities.ts";
import type { ServiceName } from "./service-topology.ts";

/** The platform's evidence source and, in simulation mode, the key and code it attests. */
export interface PlatformAttestation {
  readonly tee: TeeMode;
  /** The simulation attestation public key (PEM), which clients must trust; simulation only. */
  readonly simulationKeyPem?: string;
  /** Hex SHA-256 of the code that runs, as simulated evidence reports it; simulation only. */
  readonly measurement?: string;
}

/** The attested identities of one process. */
export interface AttestationSetup {
  readonly attestation: PlatformAttestation;
  /** The identity of the public API endpoints; undefined when neither runs here. */
  readonly apiIdentity: AttestedIdentity | undefined;
  /** The identity of each local service that serves or calls a remote internal link. */
  readonly serviceIdentities: ReadonlyMap<ServiceName, AttestedIdentity>;
  /** Verifies the services at the other end of internal links; undefined when none is remote. */
  readonly peers: ServicePeerVerifier | undefined;
}

/** Writes a file through a temporary name, so that readers in other processes never see it half written. */
async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

/**
 * Creates the evidence provider and the attested TLS identities of one process, and loads
 * the identities its internal links accept: from the signed identity list when one is
 * configured, else computed from the code. Throws before any endpoint starts when the list
 * fails its auditor check.
 */
export async function setUpAttestation(
  config: PlatformConfig,
  plan: DeploymentPlan,
  logger: Logger,
): Promise<AttestationSetup> {
  const paths = platformPaths(config.dataDirectory);
  const provider = await createEvidenceProvider(config.tee, config.dataDirectory);
  let attestation: PlatformAttestation = { tee: config.tee };
  if (provider instanceof SimulationEvidenceProvider) {
    logger.warn({ tee: "simulation" }, SIMULATION_NOTICE);
    attestation = {
      tee: config.tee,
      simulationKeyPem: provider.publicKey.export({ type: "spki", format: "pem" }) as string,
      measurement: Buffer.from(measureCode()).toString("hex"),
    };
    await writeFileAtomic(
      join(paths.tlsDirectory, "simulation-attestation-key.pub.pem"),
      attestation.simulationKeyPem ?? "",
    );
    await writeFileAtomic(
      join(paths.tlsDirectory, "measurement.txt"),
      `${attestation.measurement ?? ""}\n`,
    );
  }
  const apiIdentity =
    plan.local.has("authentication") || plan.local.has("frontend")
      ? await AttestedIdentity.create(provider, "Teaclave")
      : undefined;
  if (!plan.split && config.identityList === undefined) {
    return { attestation, apiIdentity, serviceIdentities: new Map(), peers: undefined };
  }

  if (!(provider instanceof SimulationEvidenceProvider)) {
    // TODO: hardware evidence between services needs collateral (Intel PCS, AMD KDS) and a
    // per-service measurement in the identity list; only simulation mode supplies both now.
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `separate processes and identity lists need the simulation TEE mode, not ${config.tee}: ` +
        "run every service in one process without an identity list in this mode",
    );
  }
  // A configured list is checked even when every service runs here, so that a bad list
  // stops the start before a later split deployment would.
  const identities: Map<ServiceName, AcceptedIdentity> =
    config.identityList === undefined
      ? computedIdentities()
      : await loadIdentityList(config.identityList, provider.publicKey, plan.local);
  if (!plan.split) {
    return { attestation, apiIdentity, serviceIdentities: new Map(), peers: undefined };
  }
  const serviceIdentities = new Map<ServiceName, AttestedIdentity>();
  const attestationDirectory = join(config.dataDirectory, "attestation");
  for (const service of plan.attestedServices) {
    const serviceProvider: EvidenceProvider = new SimulationEvidenceProvider({
      dataDirectory: attestationDirectory,
      measurement: Buffer.from(simulatedServiceMeasurement(service), "hex"),
    });
    serviceIdentities.set(service, await AttestedIdentity.create(serviceProvider, service));
  }
  logger.info(
    {
      services: plan.attestedServices,
      identitySource: config.identityList === undefined ? "computed" : "identity list",
    },
    "internal attested TLS identities created",
  );
  return {
    attestation,
    apiIdentity,
    serviceIdentities,
    peers: new ServicePeerVerifier({ identities, simulationKeys: [provider.publicKey] }),
  };
}
