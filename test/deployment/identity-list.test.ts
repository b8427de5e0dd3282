import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SimulationEvidenceProvider } from "../../src/attestation/index.ts";
import type { EndpointAddress } from "../../src/platform/deployment-plan.ts";
import { resolvePlatformConfig } from "../../src/platform/platform-config.ts";
import { startPlatform } from "../../src/platform/platform.ts";
import { simulatedEnclaveInfo } from "../../src/platform/service-identities.ts";
import type { IdentityListFiles } from "../../src/platform/service-identities.ts";
import { serviceNames } from "../../src/platform/service-topology.ts";
import type { InternalEndpointName, ServiceName } from "../../src/platform/service-topology.ts";
import { repositoryRoot } from "../helpers/fixtures.ts";
import { freePort } from "../helpers/serve-process.ts";
import { captureLogger, freeEndpoints } from "./deployment-helpers.ts";

// Three auditors, as Teaclave's build has. 2048-bit keys keep the test fast.
const auditors = Array.from({ length: 3 }, () =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }),
);
let dataDirectory: string;
let endpoints: Record<InternalEndpointName, EndpointAddress>;
let enclaveInfo: Buffer;
let auditorKeyPaths: string[];

before(async () => {
  dataDirectory = await mkdtemp(join(tmpdir(), "cloister-identity-list-"));
  endpoints = await freeEndpoints();
  const provider = new SimulationEvidenceProvider({
    dataDirectory: join(dataDirectory, "attestation"),
  });
  enclaveInfo = Buffer.from(simulatedEnclaveInfo(provider.publicKey));
  auditorKeyPaths = [];
  for (const [index, auditor] of auditors.entries()) {
    const path = join(dataDirectory, `auditor-${index}.pub.pem`);
    await writeFile(path, auditor.publicKey.export({ type: "pkcs1", format: "pem" }));
    auditorKeyPaths.push(path);
  }
});

after(() => rm(dataDirectory, { recursive: true, force: true }));

/** Writes a list and the signatures of the given auditors over `signed` (default: the list). */
async function writeList(
  name: string,
  content: Buffer,
  signers: number[],
  signed: Buffer = content,
): Promise<IdentityListFiles> {
  const enclaveInfoPath = join(dataDirectory, `${name}.toml`);
  await writeFile(enclaveInfoPath, content);
  const signaturePaths: string[] = [];
  for (const [position, signer] of signers.entries()) {
    const path = join(dataDirectory, `${name}.${position}.sign.sha256`);
    await writeFile(path, sign("sha256", signed, auditors[signer]!.privateKey));
    signaturePaths.push(path);
  }
  return { enclaveInfoPath, auditorKeyPaths, signaturePaths, threshold: 2 };
}

async function startWith(
  identityList: IdentityListFiles,
  services: ServiceName[] = ["management"],
) {
  return startPlatform(
    resolvePlatformConfig({
      dataDirectory,
      authenticationPort: await freePort(),
      frontendPort: await freePort(),
      executorWorkers: 0,
      deployment: { services, endpoints },
      identityList,
    }),
    captureLogger().logger,
  );
}

test("signed identity list allows start", async () => {
  const list = await writeList("valid", enclaveInfo, [0, 2]);
  const platform = await startWith(list);
  assert.equal(platform.internalPorts.management, endpoints.management.port);
  await platform.stop();

  const allInOne = await startWith(list, [...serviceNames]);
  assert.deepEqual(allInOne.internalPorts, {});
  await allInOne.stop();
});

test("tampered identity list stops start", async () => {
  // Flips one hex digit of the first measurement.
  const tampered = Buffer.from(
    enclaveInfo
      .toString()
      .replace(/mr_enclave = "(.)/, (_match, digit: string) =>
        digit === "0" ? 'mr_enclave = "1' : 'mr_enclave = "0',
      ),
  );
  assert.notDeepEqual(tampered, enclaveInfo);
  const list = await writeList("tampered", tampered, [0, 1], enclaveInfo);
  await assert.rejects(startWith(list), {
    code: "INTEGRITY",
    message: /failed the auditor check \(signature 1 verifies under no auditor key\)/,
  });
  await assert.rejects(startWith(list, [...serviceNames]), {
    code: "INTEGRITY",
    message: /failed the auditor check/,
  });
});

test("too few auditors stop start", async () => {
  await assert.rejects(startWith(await writeList("one-signer", enclaveInfo, [1])), {
    code: "INTEGRITY",
    message: /1 distinct auditors signed, 2 required/,
  });
  await assert.rejects(startWith(await writeList("repeated-signer", enclaveInfo, [1, 1])), {
    code: "INTEGRITY",
    message: /repeats a key that already signed/,
  });
});

test("list for other code stops start", async () => {
  const otherCode = Buffer.from(
    enclaveInfo
      .toString()
      .replace(
        /(\[teaclave_management_service\]\nmr_enclave = ")[0-9a-f]{64}/,
        `$1${"ab".repeat(32)}`,
      ),
  );
  await assert.rejects(startWith(await writeList("other-code", otherCode, [0, 1])), {
    code: "FAILED_PRECONDITION",
    message: /names (ab){32} for management, but this build measures [0-9a-f]{64}/,
  });
});

test("serve exits on a tampered list", async () => {
  const tampered = Buffer.from(enclaveInfo.toString().replace("mr_signer", "mr_signer "));
  const list = await writeList("cli-tampered", tampered, [0, 1], enclaveInfo);
  const endpoint = `management=127.0.0.1:${await freePort()}`;
  const result = spawnSync(
    process.execPath,
    [
      join(repositoryRoot, "bin/cloister.mjs"),
      "serve",
      ...["--data-dir", dataDirectory, "--services", "management", "--endpoint", endpoint],
      ...["--identity-list", list.enclaveInfoPath, "--auditor-threshold", "2"],
      ...list.auditorKeyPaths.flatMap((path) => ["--auditor-key", path]),
      ...list.signaturePaths.flatMap((path) => ["--auditor-signature", path]),
      ...["--log-level", "silent"],
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /cloister serve: identity list .* failed the auditor check/);
});

test("serve prints the identity list", () => {
  const result = spawnSync(
    process.execPath,
    [
      join(repositoryRoot, "bin/cloister.mjs"),
      "serve",
      ...["--data-dir", dataDirectory, "--print-enclave-info", "--log-level", "silent"],
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, enclaveInfo.toString());
});
