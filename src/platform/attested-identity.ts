import { generateKeyPairSync } from "node:crypto";
import type { Logger } from "../common/logger.ts";
import { createAttestedCertificate } from "../attestation/index.ts";
import type { EvidenceProvider } from "../attestation/index.ts";
import type { TlsCredentials } from "../transport/tls-credentials.ts";

/** Teaclave's attested certificates are valid for 90 days and regenerated every hour. */
const certificateValidityDays = 90;

/**
 * A service's attested TLS identity: a fresh ECDSA P-256 key whose certificate carries
 * evidence bound to that key. `refresh` makes a new key and evidence; servers swap them in
 * for new connections while open ones continue.
 */
export class AttestedIdentity {
  readonly #provider: EvidenceProvider;
  readonly #commonName: string;
  #credentials: TlsCredentials;

  private constructor(provider: EvidenceProvider, commonName: string, credentials: TlsCredentials) {
    this.#provider = provider;
    this.#commonName = commonName;
    this.#credentials = credentials;
  }

  static async create(provider: EvidenceProvider, commonName: string): Promise<AttestedIdentity> {
    return new AttestedIdentity(provider, commonName, await issue(provider, commonName));
  }

  get credentials(): TlsCredentials {
    return this.#credentials;
  }

  async refresh(): Promise<TlsCredentials> {
    this.#credentials = await issue(this.#provider, this.#commonName);
    return this.#credentials;
  }
}

async function issue(provider: EvidenceProvider, commonName: string): Promise<TlsCredentials> {
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const certificate = await createAttestedCertificate({
    keyPair,
    provider,
    validityDays: certificateValidityDays,
    commonName,
  });
  return {
    keyPem: keyPair.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    certificatePem: certificate.pem,
  };
}

/** Refreshes identities on a timer, logging failures; the old identity stays in use then. */
export function scheduleRefresh(
  intervalMs: number,
  refresh: () => Promise<void>,
  logger: Logger,
): { stop(): void } {
  const timer = setInterval(() => {
    refresh().then(
      () => logger.info("attested TLS identity refreshed"),
      (error: unknown) =>
        logger.error({ err: error }, "refreshing the attested TLS identity failed"),
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
