// Measures the cost of an attested TLS handshake against a plain TLS handshake on loopback.
// Each time runs from tls.connect until the client has received one byte that the server
// sends once it has accepted the connection, so both sides' certificate checks are included. Every connection
// is a full handshake (no session resumption). Prints one Markdown section; progress goes to
// stderr.
import "reflect-metadata";
import { KeyObject, X509Certificate, webcrypto } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import * as x509 from "@peculiar/x509";
import { SimulationEvidenceProvider } from "../src/attestation/index.ts";
import { AttestedIdentity } from "../src/platform/attested-identity.ts";
import { ServicePeerVerifier } from "../src/platform/internal-link-verifier.ts";
import {
  computedIdentities,
  simulatedServiceMeasurement,
} from "../src/platform/service-identities.ts";
import type { ServiceName } from "../src/platform/service-topology.ts";
import type { TlsCredentials } from "../src/transport/tls-credentials.ts";

const RUNS = 300;
const WARMUP = 20;

interface Row {
  readonly name: string;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly runs: number;
}

interface Scenario {
  readonly name: string;
  readonly server: TlsCredentials;
  readonly client?: TlsCredentials;
  /** Runs on the server after the handshake; throws to reject. */
  readonly verifyClient?: (certificate: X509Certificate) => void;
  /** Runs on the client after the handshake; throws to reject. */
  readonly verifyServer: (certificate: X509Certificate) => void;
  readonly ca?: string;
}

/** Returns the time of one handshake in milliseconds, checks included. */
async function handshake(port: number, scenario: Scenario): Promise<number> {
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      minVersion: "TLSv1.3",
      rejectUnauthorized: scenario.ca !== undefined,
      ...(scenario.ca === undefined
        ? {}
        : { ca: scenario.ca, checkServerIdentity: () => undefined }),
      ...(scenario.client === undefined
        ? {}
        : { key: scenario.client.keyPem, cert: scenario.client.certificatePem }),
    });
    socket.once("secureConnect", () => {
      try {
        scenario.verifyServer(socket.getPeerX509Certificate()!);
      } catch (error) {
        socket.destroy();
        reject(error as Error);
      }
    });
    socket.once("data", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
  return performance.now() - start;
}

async function measure(scenario: Scenario): Promise<Row> {
  process.stderr.write(`bench attested-tls: ${scenario.name} (${RUNS} runs)\n`);
  const server = tls.createServer(
    {
      key: scenario.server.keyPem,
      cert: scenario.server.certificatePem,
      minVersion: "TLSv1.3",
      requestCert: scenario.verifyClient !== undefined,
      rejectUnauthorized: false,
    },
    (socket) => {
      try {
        if (scenario.verifyClient !== undefined) {
          scenario.verifyClient(socket.getPeerX509Certificate()!);
        }
        socket.write("a");
      } catch {
        socket.destroy();
      }
      socket.on("error", () => {});
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  for (let index = 0; index < WARMUP; index++) await handshake(port, scenario);
  const times: number[] = [];
  for (let index = 0; index < RUNS; index++) times.push(await handshake(port, scenario));
  await new Promise((resolve) => server.close(resolve));
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { name: scenario.name, medianMs: at(0.5), p99Ms: at(0.99), runs: RUNS };
}

/** Creates a self-signed ECDSA P-256 certificate with no attestation extension. */
async function plainCredentials(): Promise<TlsCredentials> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=plain",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" });
  return { keyPem: keyPem.toString(), certificatePem: certificate.toString("pem") };
}

const dataDirectory = mkdtempSync(join(tmpdir(), "cloister-bench-tls-"));
const attestationDirectory = join(dataDirectory, "attestation");
const simulationKey = new SimulationEvidenceProvider({ dataDirectory: attestationDirectory })
  .publicKey;
const identity = async (service: ServiceName) =>
  (
    await AttestedIdentity.create(
      new SimulationEvidenceProvider({
        dataDirectory: attestationDirectory,
        measurement: Buffer.from(simulatedServiceMeasurement(service), "hex"),
      }),
      service,
    )
  ).credentials;
const management = await identity("management");
const frontend = await identity("frontend");
const plain = await plainCredentials();
// A fresh verifier per check has an empty cache, as on first contact with a peer.
const fresh = () =>
  new ServicePeerVerifier({ identities: computedIdentities(), simulationKeys: [simulationKey] });
const cached = fresh();

const rows = [
  await measure({
    name: "Plain TLS 1.3, server certificate pinned as CA",
    server: plain,
    ca: plain.certificatePem,
    verifyServer: () => {},
  }),
  await measure({
    name: "Plain mutual TLS 1.3, no client check",
    server: plain,
    client: plain,
    ca: plain.certificatePem,
    verifyClient: () => {},
    verifyServer: () => {},
  }),
  await measure({
    name: "Attested TLS, client verifies the server",
    server: management,
    verifyServer: (certificate) => fresh().outbound("management")(certificate),
  }),
  await measure({
    name: "Mutual attested TLS, both verify (first contact)",
    server: management,
    client: frontend,
    verifyClient: (certificate) => void fresh().inbound("management")(certificate),
    verifyServer: (certificate) => fresh().outbound("management")(certificate),
  }),
  await measure({
    name: "Mutual attested TLS, both verify (cached verdicts)",
    server: management,
    client: frontend,
    verifyClient: (certificate) => void cached.inbound("management")(certificate),
    verifyServer: (certificate) => cached.outbound("management")(certificate),
  }),
];
rmSync(dataDirectory, { recursive: true, force: true });

const lines = [
  "## Attested TLS handshakes",
  "",
  "Time from `tls.connect` on loopback until the client has received the first byte that the",
  "server sends after accepting the connection, one connection at a time, full TLS 1.3",
  "handshakes with ECDSA P-256 keys and simulated evidence. Each row first runs",
  `${WARMUP} warm-up handshakes.`,
  "",
  "| Handshake | Runs | Median (ms) | p99 (ms) |",
  "| --- | ---: | ---: | ---: |",
  ...rows.map(
    (row) => `| ${row.name} | ${row.runs} | ${row.medianMs.toFixed(3)} | ${row.p99Ms.toFixed(3)} |`,
  ),
  "",
  "Command: `npm run bench -- bench/attested-tls.bench.ts`",
  "",
];
process.stdout.write(lines.join("\n"));
