import type { KeyObject, X509Certificate } from "node:crypto";
import { AttestedCertificateVerifier, PEER_REJECTED_MESSAGE } from "../attestation/index.ts";
import type { AcceptedIdentity, Verdict } from "../attestation/index.ts";
import { CloisterError } from "../common/errors.ts";
import type { ClientVerifier } from "../transport/rpc-server.ts";
import type { ServerVerifier } from "../transport/rpc-client.ts";
import { inboundLists } from "./service-topology.ts";
import type { InternalEndpointName, ServiceName } from "./service-topology.ts";

/** Reason code of a peer whose identity is valid but not in the endpoint's inbound list. */
export const PEER_NOT_IN_INBOUND_LIST = "PEER_NOT_IN_INBOUND_LIST";
/** Reason code of a server that proves another service than the one the client dialled. */
export const UNEXPECTED_SERVICE = "UNEXPECTED_SERVICE";

export interface ServicePeerVerifierOptions {
  /** The accepted identity of each service of the deployment. */
  readonly identities: ReadonlyMap<ServiceName, AcceptedIdentity>;
  /** Keys that sign simulated evidence. */
  readonly simulationKeys: readonly KeyObject[];
  /** Maximum age of a peer's evidence. Default: the attestation library's 24 hours. */
  readonly maxEvidenceAgeMs?: number;
}

function matches(verdict: Verdict, identity: AcceptedIdentity): boolean {
  const measurements = (verdict.measurements ?? {}) as Record<string, unknown>;
  const fields = ["mrEnclave", "mrSigner", "mrTd", "measurement"] as const;
  const set = fields.filter((field) => identity[field] !== undefined);
  return (
    set.length > 0 && set.every((field) => identity[field]!.toLowerCase() === measurements[field])
  );
}

/** Creates a rejection whose detail and reason code stay in `cause`, for local logs only. */
function peerRejected(reason: string, detail: string): CloisterError {
  const cause = Object.assign(new Error(detail), { code: reason });
  return new CloisterError("PERMISSION_DENIED", PEER_REJECTED_MESSAGE, { cause });
}

/**
 * Verifies the attested certificates of a deployment's services and returns which service a
 * certificate proves. Accepted verdicts are cached per certificate.
 */
export class ServicePeerVerifier {
  readonly #verifier: AttestedCertificateVerifier;
  readonly #identities: ReadonlyMap<ServiceName, AcceptedIdentity>;

  constructor(options: ServicePeerVerifierOptions) {
    this.#identities = options.identities;
    this.#verifier = new AttestedCertificateVerifier({
      acceptedIdentities: [...options.identities.values()],
      trustAnchors: { simulation: options.simulationKeys },
      ...(options.maxEvidenceAgeMs === undefined
        ? {}
        : { maxEvidenceAgeMs: options.maxEvidenceAgeMs }),
    });
  }

  /**
   * Returns every service whose identity the certificate proves (more than one only when
   * services share a measurement). Throws PERMISSION_DENIED with the reason in `cause`.
   */
  identify(certificate: X509Certificate): ServiceName[] {
    const verdict = this.#verifier.verify(certificate, new Date());
    return [...this.#identities]
      .filter(([, identity]) => matches(verdict, identity))
      .map(([service]) => service);
  }

  /** Creates the client check of an internal endpoint: it accepts only its inbound list. */
  inbound(endpoint: InternalEndpointName): ClientVerifier {
    const allowed = inboundLists[endpoint];
    return (certificate) => {
      const services = this.identify(certificate);
      const peer = services.find((service) => allowed.includes(service));
      if (peer === undefined) {
        throw peerRejected(
          PEER_NOT_IN_INBOUND_LIST,
          `${services.join(" or ")} may not call ${endpoint}, which accepts ${allowed.join(", ")}`,
        );
      }
      return peer;
    };
  }

  /** Creates the server check of a link to `target`: it accepts only that service. */
  outbound(target: InternalEndpointName): ServerVerifier {
    return (certificate) => {
      const services = this.identify(certificate);
      if (!services.includes(target)) {
        throw peerRejected(
          UNEXPECTED_SERVICE,
          `expected ${target}, the server proves ${services.join(" or ")}`,
        );
      }
    };
  }
}
