import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "../common/logger.ts";
import type { LogLevel } from "../common/logger.ts";
import { resolvePlatformConfig } from "../platform/platform-config.ts";
import { startPlatform } from "../platform/platform.ts";
import { AuthenticationClient } from "../sdk/authentication-client.ts";
import { FrontendClient } from "../sdk/frontend-client.ts";
import { simulationVerifier } from "../sdk/platform-verifier.ts";
import { runPrivateJoinAndCompute, runSetIntersection } from "./demo-scenarios.ts";
import type { Party } from "./party.ts";

const demoDataDirectory = resolve(fileURLToPath(new URL("../../examples/data", import.meta.url)));

/**
 * Starts a platform on loopback in a temporary directory, runs the three-bank private join
 * and compute and the two-party set intersection through the SDK over TLS, checks the
 * results, and stops the platform. Returns true when every result is as expected.
 */
export async function runDemo(options: {
  logLevel: LogLevel;
  report: (line: string) => void;
}): Promise<boolean> {
  const { report } = options;
  const root = await mkdtemp(join(tmpdir(), "cloister-demo-"));
  const logger = createLogger({ level: options.logLevel, destination: 2 });
  // The parties' files live on this machine, so the platform serves file URLs from there.
  const workDirectory = join(root, "parties");
  await mkdir(workDirectory);
  const platform = await startPlatform(
    resolvePlatformConfig({
      dataDirectory: join(root, "platform"),
      authenticationPort: 0,
      frontendPort: 0,
      dev: true,
      fileRoots: [workDirectory],
    }),
    logger,
  );
  report(
    `Cloister is running: authentication on 127.0.0.1:${platform.authenticationPort}, ` +
      `frontend on 127.0.0.1:${platform.frontendPort} (TLS)`,
  );
  try {
    // The demo's clients check the platform's simulated evidence: the key that signed it and
    // the measurement of the code in this checkout.
    const verifyServer = simulationVerifier(
      platform.attestation.simulationKeyPem ?? "",
      platform.attestation.measurement ?? "",
    );
    report(
      `Verified the platform's attestation (simulation, code ${platform.attestation.measurement?.slice(0, 16)}…)`,
    );
    const connect = async (id: string, password: string): Promise<Party> => {
      const authentication = new AuthenticationClient({
        address: `127.0.0.1:${platform.authenticationPort}`,
        verifyServer,
      });
      const frontend = new FrontendClient({
        address: `127.0.0.1:${platform.frontendPort}`,
        verifyServer,
      });
      frontend.setCredentials(await authentication.login(id, password));
      return { id, authentication, frontend };
    };
    const admin = await connect("admin", "teaclave");
    const users: [string, string, string][] = [
      ["function_owner", "FunctionOwner", ""],
      ["bank_a", "DataOwner", "bank_a"],
      ["bank_b", "DataOwner", "bank_b"],
      ["bank_c", "DataOwner", "bank_c"],
    ];
    for (const [id, role, attribute] of users) {
      await admin.authentication.registerUser(id, `${id}-demo-password`, role, attribute);
    }
    report(`admin registered ${users.map(([id]) => id).join(", ")}`);
    const [owner, bankA, bankB, bankC] = await Promise.all(
      users.map(([id]) => connect(id, `${id}-demo-password`)),
    );
    const context = { dataDirectory: demoDataDirectory, workDirectory, report };

    const joined = await runPrivateJoinAndCompute(context, owner!, [bankA!, bankB!, bankC!]);
    const expectedJoin = "c, 470000\ne, 5033000";
    const joinOk = Object.values(joined).every(
      (text) => text.trim().split("\n").sort().join("\n") === expectedJoin,
    );

    const intersected = await runSetIntersection(context, owner!, [bankA!, bankB!]);
    const intersectOk = intersected["bank_a"] === "0101010" && intersected["bank_b"] === "01101";

    report(
      joinOk && intersectOk
        ? "All results are as expected."
        : "Some results differ from the expected ones.",
    );
    return joinOk && intersectOk;
  } finally {
    await platform.stop();
    logger.flush();
    await rm(root, { recursive: true, force: true });
    report("Cloister stopped.");
  }
}
