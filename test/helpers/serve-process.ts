import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { AuthenticationClient } from "../../src/sdk/authentication-client.ts";
import { FrontendClient } from "../../src/sdk/frontend-client.ts";
import { simulationVerifierFromDataDirectory } from "../../src/sdk/platform-verifier.ts";
import { repositoryRoot } from "./fixtures.ts";

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago. It picks from 20000–32767,
 * below Linux's default ephemeral range (32768–60999), so that neither an outgoing
 * connection's local port nor another test's `listen(0)` can take it before the caller
 * binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await canListen(port)) return port;
  }
  throw new Error("no free TCP port found in 20000-32767 after 100 attempts");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A `cloister serve` child process and clients for it. */
export interface ServeProcess {
  readonly child: ChildProcess;
  connect(
    id: string,
    password: string,
  ): Promise<{ authentication: AuthenticationClient; frontend: FrontendClient }>;
  /** Clients that reuse an existing token. */
  clients(credentials: { id: string; token: string }): Promise<{ frontend: FrontendClient }>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `cloister serve --dev` on the given ports and waits until it accepts a login. */
export async function startServeProcess(options: {
  dataDirectory: string;
  authenticationPort: number;
  frontendPort: number;
  extraArguments?: string[];
}): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [
      join(repositoryRoot, "bin/cloister.mjs"),
      "serve",
      "--dev",
      "--data-dir",
      options.dataDirectory,
      "--auth-port",
      String(options.authenticationPort),
      "--frontend-port",
      String(options.frontendPort),
      "--log-level",
      "warn",
      ...(options.extraArguments ?? []),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  const verifier = () => simulationVerifierFromDataDirectory(options.dataDirectory);
  const connect = async (id: string, password: string) => {
    const verifyServer = await verifier();
    const authentication = new AuthenticationClient({
      address: `127.0.0.1:${options.authenticationPort}`,
      verifyServer,
    });
    const frontend = new FrontendClient({
      address: `127.0.0.1:${options.frontendPort}`,
      verifyServer,
    });
    frontend.setCredentials(await authentication.login(id, password));
    return { authentication, frontend };
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cloister serve exited early: ${stderr}`);
    try {
      await connect("admin", "teaclave");
      break;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`cloister serve did not start: ${stderr}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    child,
    connect,
    async clients(credentials) {
      const frontend = new FrontendClient({
        address: `127.0.0.1:${options.frontendPort}`,
        verifyServer: await verifier(),
      });
      frontend.setCredentials(credentials);
      return { frontend };
    },
    async kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
