import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/common/logger.ts";
import type { LogLevel } from "../../src/common/logger.ts";
import { resolvePlatformConfig } from "../../src/platform/platform-config.ts";
import type { PlatformConfig } from "../../src/platform/platform-config.ts";
import { startPlatform } from "../../src/platform/platform.ts";
import type { RunningPlatform } from "../../src/platform/platform.ts";
import { AuthenticationClient } from "../../src/sdk/authentication-client.ts";
import { FrontendClient } from "../../src/sdk/frontend-client.ts";
import { simulationVerifier } from "../../src/sdk/platform-verifier.ts";

/** A user's pair of clients, logged in. */
export interface Session {
  readonly id: string;
  readonly authentication: AuthenticationClient;
  readonly frontend: FrontendClient;
}

export interface TestPlatform {
  readonly platform: RunningPlatform;
  readonly dataDirectory: string;
  readonly config: PlatformConfig;
  /** Clients with no credentials. */
  anonymous(): { authentication: AuthenticationClient; frontend: FrontendClient };
  login(id: string, password: string): Promise<Session>;
  /** Registers a user as `admin` and logs in as it. */
  createUser(id: string, role: string, attribute?: string): Promise<Session>;
  /** Stops the platform, keeping the data directory. */
  stop(): Promise<void>;
  /** Stops the platform and removes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Starts a real all-in-one platform on free loopback ports in a temporary directory, with
 * Teaclave's development admin `admin` / `teaclave`. Set CLOISTER_TEST_LOG=debug to see logs.
 */
export async function startTestPlatform(
  overrides: Partial<PlatformConfig> = {},
  existingDirectory?: string,
): Promise<TestPlatform> {
  const dataDirectory = existingDirectory ?? (await mkdtemp(join(tmpdir(), "cloister-test-")));
  const config = resolvePlatformConfig({
    dataDirectory,
    authenticationPort: 0,
    frontendPort: 0,
    dev: true,
    // Tests keep their files in temporary directories; the data directory stays excluded.
    fileRoots: [tmpdir()],
    ...overrides,
  });
  const logger = createLogger({
    level: (process.env["CLOISTER_TEST_LOG"] as LogLevel | undefined) ?? "silent",
    destination: 2,
  });
  const platform = await startPlatform(config, logger);
  const verifyServer = simulationVerifier(
    platform.attestation.simulationKeyPem ?? "",
    platform.attestation.measurement ?? "",
  );
  const anonymous = () => ({
    authentication: new AuthenticationClient({
      address: `127.0.0.1:${platform.authenticationPort}`,
      verifyServer,
    }),
    frontend: new FrontendClient({ address: `127.0.0.1:${platform.frontendPort}`, verifyServer }),
  });
  const login = async (id: string, password: string): Promise<Session> => {
    const clients = anonymous();
    const credentials = await clients.authentication.login(id, password);
    clients.frontend.setCredentials(credentials);
    return { id, ...clients };
  };
  let admin: Session | undefined;
  return {
    platform,
    dataDirectory,
    config,
    anonymous,
    login,
    async createUser(id, role, attribute = "") {
      admin ??= await login("admin", "teaclave");
      await admin.authentication.registerUser(id, `${id}-password`, role, attribute);
      return login(id, `${id}-password`);
    },
    stop: () => platform.stop(),
    async dispose() {
      await platform.stop();
      await rm(dataDirectory, { recursive: true, force: true });
    },
  };
}
