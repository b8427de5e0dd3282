import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  SimulationEvidenceProvider,
  bindingReportData,
  createAttestedCertificate,
  measureCode,
} from "../../src/attestation/index.ts";
import type { EvidenceProvider } from "../../src/attestation/index.ts";
import { createLogger } from "../../src/common/logger.ts";
import { TeaclaveAuthenticationApi } from "../../src/gen/teaclave_authentication_service_pb.ts";
import { AuthenticationClient } from "../../src/sdk/authentication-client.ts";
import { attestedServerVerifier } from "../../src/sdk/server-verification.ts";
import { startRpcServer } from "../../src/transport/rpc-server.ts";
import type { RpcServer } from "../../src/transport/rpc-server.ts";

/**
 * Clients verify the API endpoint's attested certificate before they send anything. Each
 * case starts a real TLS server whose certificate is wrong in one way, and checks that the
 * client refuses it and that the server's handler never runs.
 */
describe("attested TLS on the API endpoints", () => {
  let directory: string;
  let provider: SimulationEvidenceProvider;
  const measurement = Buffer.from(measureCode()).toString("hex");
  let handlerCalls = 0;
  const servers: RpcServer[] = [];

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "cloister-attested-"));
    provider = new SimulationEvidenceProvider({ dataDirectory: directory });
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await rm(directory, { recursive: true, force: true });
  });

  async function serve(
    certificateFor: (keyPair: ReturnType<typeof generateKeyPairSync>) => Promise<string>,
  ) {
    const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const server = await startRpcServer({
      host: "127.0.0.1",
      port: 0,
      credentials: {
        keyPem: keyPair.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        certificatePem: await certificateFor(keyPair),
      },
      logger: createLogger({ level: "silent" }),
      routes: (router) =>
        router.service(TeaclaveAuthenticationApi, {
          async userLogin() {
            handlerCalls++;
            return { token: "t" };
          },
        }),
    });
    servers.push(server);
    return server.port;
  }

  function certificateWith(evidenceProvider: EvidenceProvider) {
    return async (keyPair: ReturnType<typeof generateKeyPairSync>) =>
      (await createAttestedCertificate({ keyPair, provider: evidenceProvider, validityDays: 1 }))
        .pem;
  }

  async function attemptLogin(port: number, expected = measurement, anchor = provider.publicKey) {
    const rejections: unknown[] = [];
    const client = new AuthenticationClient({
      address: `127.0.0.1:${port}`,
      verifyServer: attestedServerVerifier({
        trustAnchors: { simulation: [anchor] },
        acceptedIdentities: [{ measurement: expected }],
        onRejected: (error) => rejections.push(error),
      }),
    });
    const before = handlerCalls;
    const outcome = await client.rpc.userLogin({ id: "admin", password: "x" }).then(
      () => "accepted",
      () => "rejected",
    );
    return { outcome, rejections, calls: handlerCalls - before };
  }

  function detailOf(error: unknown): string {
    const cause = (error as { cause?: unknown }).cause;
    return JSON.stringify(cause ?? error, Object.getOwnPropertyNames(cause ?? error));
  }

  test("a genuine endpoint is accepted", async () => {
    const port = await serve(certificateWith(provider));
    const result = await attemptLogin(port);
    assert.equal(result.outcome, "accepted");
    assert.equal(result.calls, 1);
  });

  test("a wrong measurement is refused before any request", async () => {
    const port = await serve(certificateWith(provider));
    const result = await attemptLogin(port, "00".repeat(32));
    assert.equal(result.outcome, "rejected");
    assert.equal(result.calls, 0);
    assert.match(detailOf(result.rejections[0]), /MEASUREMENT_MISMATCH/);
  });

  test("evidence bound to another key is refused", async () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const borrowed: EvidenceProvider = {
      kind: "simulation",
      getEvidence: () => provider.getEvidence(bindingReportData("simulation", other.publicKey)),
    };
    const port = await serve(certificateWith(borrowed));
    const result = await attemptLogin(port);
    assert.equal(result.outcome, "rejected");
    assert.equal(result.calls, 0);
    assert.match(detailOf(result.rejections[0]), /REPORT_DATA|KEY|BINDING/i);
  });

  test("stale evidence is refused", async () => {
    const stale = new SimulationEvidenceProvider({
      dataDirectory: directory,
      clock: () => new Date(Date.now() - 3 * 86_400_000),
    });
    const port = await serve(certificateWith(stale));
    const result = await attemptLogin(port);
    assert.equal(result.outcome, "rejected");
    assert.equal(result.calls, 0);
  });

  test("evidence signed by an untrusted key is refused", async () => {
    const strangerDirectory = await mkdtemp(join(tmpdir(), "cloister-stranger-"));
    try {
      const stranger = new SimulationEvidenceProvider({ dataDirectory: strangerDirectory });
      const port = await serve(certificateWith(stranger));
      const result = await attemptLogin(port);
      assert.equal(result.outcome, "rejected");
      assert.equal(result.calls, 0);
    } finally {
      await rm(strangerDirectory, { recursive: true, force: true });
    }
  });

  test("a plain self-signed certificate is refused", async () => {
    const { createSelfSignedCredentials } = await import("../../src/transport/tls-credentials.ts");
    const port = await serve(async () => {
      throw new Error("unused");
    }).catch(() => 0);
    assert.equal(port, 0);
    const plain = await createSelfSignedCredentials({ commonName: "Teaclave", validityDays: 1 });
    const server = await startRpcServer({
      host: "127.0.0.1",
      port: 0,
      credentials: plain,
      logger: createLogger({ level: "silent" }),
      routes: (router) =>
        router.service(TeaclaveAuthenticationApi, {
          async userLogin() {
            handlerCalls++;
            return { token: "t" };
          },
        }),
    });
    servers.push(server);
    const result = await attemptLogin(server.port);
    assert.equal(result.outcome, "rejected");
    assert.equal(result.calls, 0);
  });
});
