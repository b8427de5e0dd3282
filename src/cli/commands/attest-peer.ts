import { X509Certificate, createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import tls from "node:tls";
import { verifyAttestedCertificate } from "../../attestation/index.ts";
import type { AcceptedIdentity, Verdict } from "../../attestation/index.ts";

/** Options of `cloister attest --address`. */
export interface AttestPeerOptions {
  readonly address: string;
  /** A platform data directory with the simulation key and measurement it published. */
  readonly dataDir?: string;
  readonly simulationKey?: string;
  readonly measurement?: string;
  readonly mrEnclave?: string;
  readonly mrSigner?: string;
  /** Root of Teaclave attestation-service reports (IAS or Teaclave's DCAP server), DER or PEM. */
  readonly asCaCert?: string;
}

/** Fetches the peer's certificate from a TLS handshake; nothing is sent after it. */
function fetchPeerCertificate(address: string): Promise<X509Certificate> {
  const separator = address.lastIndexOf(":");
  const host = address.slice(0, separator).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve, reject) => {
    // The certificate is self-signed and carries evidence; it is verified below.
    const socket = tls.connect({ host, port, ALPNProtocols: ["h2"], rejectUnauthorized: false });
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`timed out connecting to ${address}`)),
    );
    socket.once("secureConnect", () => {
      const certificate = socket.getPeerX509Certificate();
      socket.end();
      if (certificate === undefined) reject(new Error(`${address} sent no certificate`));
      else resolve(certificate);
    });
    socket.once("error", reject);
  });
}

/**
 * Connects to an endpoint, verifies the evidence in its certificate and returns the
 * verdict. A rejection is returned as a verdict with `accepted: false` and its reason.
 */
export async function attestPeer(options: AttestPeerOptions): Promise<Verdict> {
  let simulationKey = options.simulationKey;
  let measurement = options.measurement;
  if (options.dataDir !== undefined) {
    simulationKey ??= join(options.dataDir, "tls", "simulation-attestation-key.pub.pem");
    measurement ??= (
      await readFile(join(options.dataDir, "tls", "measurement.txt"), "utf8")
    ).trim();
  }
  const identity: AcceptedIdentity = {
    ...(measurement === undefined ? {} : { measurement }),
    ...(options.mrEnclave === undefined ? {} : { mrEnclave: options.mrEnclave }),
    ...(options.mrSigner === undefined ? {} : { mrSigner: options.mrSigner }),
  };
  const certificate = await fetchPeerCertificate(options.address);
  const trustAnchors = {
    ...(simulationKey === undefined
      ? {}
      : { simulation: [createPublicKey(await readFile(simulationKey, "utf8"))] }),
    ...(options.asCaCert === undefined
      ? {}
      : { attestationService: [new X509Certificate(await readFile(options.asCaCert))] }),
  };
  try {
    return verifyAttestedCertificate(certificate, {
      now: new Date(),
      acceptedIdentities: Object.keys(identity).length > 0 ? [identity] : "any",
      trustAnchors,
    });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const rejection = cause as { code?: string; message?: string } | undefined;
    return {
      accepted: false,
      tee: "simulation",
      hardwareProtected: false,
      advisoryIds: [],
      verifiedAt: new Date().toISOString(),
      rejection: {
        code: (rejection?.code ?? "MALFORMED_EVIDENCE") as never,
        detail: rejection?.message ?? String(error),
      },
    };
  }
}
