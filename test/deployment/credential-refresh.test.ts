import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { SimulationEvidenceProvider, certificateFingerprint } from "../../src/attestation/index.ts";
import { Management } from "../../src/gen/cloister/internal/v1/management_pb.ts";
import { ServicePeerVerifier } from "../../src/platform/internal-link-verifier.ts";
import { endpointUrl } from "../../src/platform/internal-links.ts";
import { resolvePlatformConfig } from "../../src/platform/platform-config.ts";
import { startPlatform } from "../../src/platform/platform.ts";
import { computedIdentities } from "../../src/platform/service-identities.ts";
import { createRpcTransport } from "../../src/transport/rpc-client.ts";
import { freePort } from "../helpers/serve-process.ts";
import { captureLogger, freeEndpoints, serviceIdentity } from "./deployment-helpers.ts";

test("refresh drops no request", async () => {
  const dataDirectory = await mkdtemp(join(tmpdir(), "cloister-refresh-"));
  const log = captureLogger();
  const endpoints = await freeEndpoints();
  const platform = await startPlatform(
    resolvePlatformConfig({
      dataDirectory,
      authenticationPort: await freePort(),
      frontendPort: await freePort(),
      attestationRefreshMs: 300,
      deployment: { services: ["management"], endpoints },
    }),
    log.logger,
  );
  try {
    const provider = new SimulationEvidenceProvider({
      dataDirectory: join(dataDirectory, "attestation"),
    });
    const peers = new ServicePeerVerifier({
      identities: computedIdentities(),
      simulationKeys: [provider.publicKey],
    });
    const frontend = await serviceIdentity(dataDirectory, "frontend");
    const serverCertificates = new Set<string>();
    const transport = () =>
      createRpcTransport({
        baseUrl: endpointUrl(endpoints.management),
        verifyServer: (certificate) => {
          peers.outbound("management")(certificate);
          serverCertificates.add(certificateFingerprint(certificate));
        },
        clientCredentials: () => frontend.credentials,
      });
    const management = createClient(Management, transport());

    // Four callers send requests over one open connection while the server replaces its
    // credentials at least twice and the client replaces its own once.
    const refreshes = () => log.find("attested TLS identity refreshed").length;
    const deadline = Date.now() + 15_000;
    let completed = 0;
    let clientRefreshed = false;
    const caller = async () => {
      while (refreshes() < 2 && Date.now() < deadline) {
        await management.saveLogs({ logs: [] });
        completed++;
        if (!clientRefreshed && refreshes() >= 1) {
          clientRefreshed = true;
          await frontend.refresh();
        }
      }
    };
    await Promise.all([caller(), caller(), caller(), caller()]);
    assert.ok(refreshes() >= 2, "the server did not refresh its credentials in 15 s");
    assert.ok(completed > 0);
    assert.equal(serverCertificates.size, 1, "the open connection was replaced");

    // A new connection gets the server's new certificate and presents the client's new one.
    await createClient(Management, transport()).saveLogs({ logs: [] });
    assert.equal(serverCertificates.size, 2);
    assert.equal(log.find("client rejected").length, 0);
  } finally {
    await platform.stop();
    await rm(dataDirectory, { recursive: true, force: true });
  }
});
