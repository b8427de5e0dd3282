import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import {
  SimulationEvidenceProvider,
  bindingReportData,
  createAttestedCertificate,
} from "../../src/attestation/index.ts";
import type { EvidenceProvider } from "../../src/attestation/index.ts";
import { Management } from "../../src/gen/cloister/internal/v1/management_pb.ts";
import type { EndpointAddress } from "../../src/platform/deployment-plan.ts";
import { ServicePeerVerifier } from "../../src/platform/internal-link-verifier.ts";
import { endpointUrl } from "../../src/platform/internal-links.ts";
import { resolvePlatformConfig } from "../../src/platform/platform-config.ts";
import { startPlatform } from "../../src/platform/platform.ts";
import type { RunningPlatform } from "../../src/platform/platform.ts";
import {
  computedIdentities,
  simulatedServiceMeasurement,
} from "../../src/platform/service-identities.ts";
import type { InternalEndpointName } from "../../src/platform/service-topology.ts";
import { rejectionReason } from "../../src/transport/rejection-reason.ts";
import { createRpcTransport } from "../../src/transport/rpc-client.ts";
import type { TlsCredentials } from "../../src/transport/tls-credentials.ts";
import { freePort } from "../helpers/serve-process.ts";
import { captureLogger, freeEndpoints, serviceIdentity } from "./deployment-helpers.ts";

// One process serves every internal endpoint, because the frontend and the executors run
// elsewhere. Each case calls management's SaveLogs with its own user name: an audit entry with
// that name exists exactly when the handler ran.
let dataDirectory: string;
let platform: RunningPlatform;
let endpoints: Record<InternalEndpointName, EndpointAddress>;
const log = captureLogger();

before(async () => {
  dataDirectory = await mkdtemp(join(tmpdir(), "cloister-inbound-"));
  endpoints = await freeEndpoints();
  const config = resolvePlatformConfig({
    dataDirectory,
    authenticationPort: await freePort(),
    frontendPort: await freePort(),
    dev: true,
    deployment: {
      services: ["authentication", "management", "access_control", "scheduler"],
      endpoints,
    },
  });
  platform = await startPlatform(config, log.logger);
});

after(async () => {
  await platform.stop();
  await rm(dataDirectory, { recursive: true, force: true });
});

async function saveLogAs(credentials: TlsCredentials | undefined, user: string): Promise<void> {
  const transport = createRpcTransport({
    baseUrl: endpointUrl(endpoints.management),
    // The caller under test does not check the server: only the server's check matters here.
    verifyServer: () => {},
    ...(credentials === undefined ? {} : { clientCredentials: credentials }),
  });
  await createClient(Management, transport).saveLogs({
    logs: [
      {
        microsecond: BigInt(Date.now()) * 1000n,
        ip: new Uint8Array(16),
        user,
        message: "saved by the inbound list test",
        result: true,
      },
    ],
  });
}

async function handlerRanFor(user: string): Promise<boolean> {
  const entries = await platform.storage.queryAudit(`user:${user}`, 10);
  return entries.some((entry) => entry.user === user);
}

function rejectionsWith(reason: string): Record<string, unknown>[] {
  return log.find("client rejected").filter((line) => line["reason"] === reason);
}

async function assertRejected(
  credentials: TlsCredentials | undefined,
  user: string,
  reason: string,
): Promise<void> {
  await assert.rejects(saveLogAs(credentials, user));
  assert.equal(await handlerRanFor(user), false, `the handler ran for ${user}`);
  const rejections = rejectionsWith(reason);
  assert.ok(rejections.length > 0, `no rejection logged with reason ${reason}`);
  assert.equal(rejections.at(-1)?.["remoteAddress"], "127.0.0.1");
}

test("frontend identity reaches management", async () => {
  const frontend = await serviceIdentity(dataDirectory, "frontend");
  await saveLogAs(frontend.credentials, "listed-frontend");
  assert.equal(await handlerRanFor("listed-frontend"), true);
});

test("unlisted execution identity is rejected", async () => {
  const execution = await serviceIdentity(dataDirectory, "execution");
  await assertRejected(execution.credentials, "unlisted-execution", "PEER_NOT_IN_INBOUND_LIST");
});

test("wrong measurement is rejected", async () => {
  const impostor = await serviceIdentity(dataDirectory, "frontend", {
    measurement: new Uint8Array(32).fill(7),
  });
  await assertRejected(impostor.credentials, "wrong-measurement", "MEASUREMENT_MISMATCH");
});

test("evidence bound to another key is rejected", async () => {
  const provider = new SimulationEvidenceProvider({
    dataDirectory: join(dataDirectory, "attestation"),
    measurement: Buffer.from(simulatedServiceMeasurement("frontend"), "hex"),
  });
  const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const misbinding: EvidenceProvider = {
    kind: "simulation",
    getEvidence: () => provider.getEvidence(bindingReportData("simulation", otherKey.publicKey)),
  };
  const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const certificate = await createAttestedCertificate({
    keyPair,
    provider: misbinding,
    validityDays: 1,
  });
  const credentials = {
    keyPem: keyPair.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    certificatePem: certificate.pem,
  };
  await assertRejected(credentials, "other-key", "REPORT_DATA_MISMATCH");
});

test("stale evidence is rejected", async () => {
  const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
  const stale = await serviceIdentity(dataDirectory, "frontend", { clock: () => twoDaysAgo });
  await assertRejected(stale.credentials, "stale-evidence", "EVIDENCE_STALE");
});

test("untrusted simulation key is rejected", async () => {
  const otherDirectory = await mkdtemp(join(tmpdir(), "cloister-other-key-"));
  try {
    const stranger = await serviceIdentity(otherDirectory, "frontend");
    await assertRejected(stranger.credentials, "untrusted-key", "UNTRUSTED_ROOT");
  } finally {
    await rm(otherDirectory, { recursive: true, force: true });
  }
});

test("client without certificate is rejected", async () => {
  await assertRejected(undefined, "no-certificate", "CLIENT_CERTIFICATE_MISSING");
});

test("client rejects another service's server", async () => {
  const provider = new SimulationEvidenceProvider({
    dataDirectory: join(dataDirectory, "attestation"),
  });
  const peers = new ServicePeerVerifier({
    identities: computedIdentities(),
    simulationKeys: [provider.publicKey],
  });
  const frontend = await serviceIdentity(dataDirectory, "frontend");
  const reasons: string[] = [];
  // Management's address points at the access control endpoint, as a misconfiguration or a
  // redirecting host would.
  const transport = createRpcTransport({
    baseUrl: endpointUrl(endpoints.access_control),
    verifyServer: peers.outbound("management"),
    clientCredentials: frontend.credentials,
    onRejected: (error) => reasons.push(rejectionReason(error)),
  });
  await assert.rejects(createClient(Management, transport).saveLogs({ logs: [] }));
  assert.deepEqual(reasons, ["UNEXPECTED_SERVICE"]);

  const honest = createRpcTransport({
    baseUrl: endpointUrl(endpoints.management),
    verifyServer: peers.outbound("management"),
    clientCredentials: frontend.credentials,
  });
  await createClient(Management, honest).saveLogs({ logs: [] });
});
