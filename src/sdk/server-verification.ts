import { X509Certificate, createPublicKey, timingSafeEqual } from "node:crypto";
import { AttestedCertificateVerifier } from "../attestation/index.ts";
import type { AcceptedIdentity, TrustAnchor, VerificationPolicy } from "../attestation/index.ts";
import { CloisterError } from "../common/errors.ts";
import type { ServerVerifier } from "../transport/rpc-client.ts";

/** The roots, identities and policy by which a client accepts a Cloister (or Teaclave) endpoint. */
export interface AttestationExpectation {
  /** Roots per evidence kind: Intel's and AMD's keys are built in; simulation needs its key. */
  readonly trustAnchors?: {
    readonly intel?: readonly TrustAnchor[];
    readonly amd?: readonly TrustAnchor[];
    /** The platform's simulation attestation key (PEM or KeyObject), for development. */
    readonly simulation?: readonly TrustAnchor[];
    /** Roots of attestation-service report signers, for Teaclave's own certificates. */
    readonly attestationService?: readonly X509Certificate[];
  };
  /** Measurements the client accepts, or "any" to accept whatever the policy allows. */
  readonly acceptedIdentities: readonly AcceptedIdentity[] | "any";
  /** TCB statuses and other checks; the default accepts only UpToDate platforms. */
  readonly policy?: VerificationPolicy;
  /** Called with the detail when a server is rejected, for the caller's local log. */
  readonly onRejected?: (error: unknown) => void;
}

/**
 * A verifier that checks the server's attested certificate before any request: the
 * evidence must chain to a trusted root, bind the TLS key, be fresh, pass the policy and
 * show an accepted measurement. Verdicts are cached per certificate.
 */
export function attestedServerVerifier(expectation: AttestationExpectation): ServerVerifier {
  const anchors = expectation.trustAnchors ?? {};
  const verifier = new AttestedCertificateVerifier({
    acceptedIdentities: expectation.acceptedIdentities,
    ...(expectation.policy === undefined ? {} : { policy: expectation.policy }),
    trustAnchors: {
      ...(anchors.intel === undefined ? {} : { intel: anchors.intel }),
      ...(anchors.amd === undefined ? {} : { amd: anchors.amd }),
      ...(anchors.simulation === undefined
        ? {}
        : {
            simulation: anchors.simulation.map((anchor) =>
              typeof anchor === "string" && anchor.includes("BEGIN")
                ? createPublicKey(anchor)
                : anchor,
            ),
          }),
      ...(anchors.attestationService === undefined
        ? {}
        : { attestationService: anchors.attestationService }),
    },
  });
  return (certificate) => {
    try {
      verifier.verify(certificate, new Date());
    } catch (error) {
      expectation.onRejected?.(error);
      throw error;
    }
  };
}

/**
 * Creates a verifier that accepts exactly one certificate, given in PEM. It proves nothing about
 * the code behind the endpoint; prefer `attestedServerVerifier`.
 */
export function pinnedCertificateVerifier(certificatePem: string): ServerVerifier {
  const expected = new X509Certificate(certificatePem).raw;
  return (certificate) => {
    const actual = certificate.raw;
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new CloisterError(
        "PERMISSION_DENIED",
        "server certificate does not match the pinned one",
      );
    }
  };
}
