import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

/** A PUT request the server received. */
export interface ReceivedUpload {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
}

/** A loopback file server like the one Teaclave's tests use: GET serves, PUT stores. */
export interface LoopbackServer {
  readonly origin: string;
  readonly uploads: ReceivedUpload[];
  /** Status code of the responses to PUT requests; 200 unless a test changes it. */
  putStatus: number;
  /** PEM of the server's self-signed certificate, for https servers. */
  readonly certificate: string | undefined;
  close(): Promise<void>;
}

/** Creates a self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost. */
async function createTlsCredentials(): Promise<{ key: string; cert: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=localhost",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: "ip", value: "127.0.0.1" },
        { type: "dns", value: "localhost" },
      ]),
      new x509.BasicConstraintsExtension(true, undefined, true),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`;
  return { key, cert: certificate.toString("pem") };
}

/**
 * Starts a server on 127.0.0.1 that serves `serveDirectory` for GET and writes PUT bodies
 * into `uploadDirectory`, responding with `putStatus`.
 */
export async function startLoopbackServer(options: {
  serveDirectory: string;
  uploadDirectory: string;
  tls?: boolean;
}): Promise<LoopbackServer> {
  const uploads: ReceivedUpload[] = [];
  const state = { putStatus: 200 };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const name = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname).slice(
      1,
    );
    if (name.includes("/") || name.includes("..")) {
      response.writeHead(400).end();
      return;
    }
    if (request.method === "GET") {
      try {
        const body = await readFile(join(options.serveDirectory, name));
        response.writeHead(200, { "Content-Length": body.length }).end(body);
      } catch {
        response.writeHead(404).end();
      }
      return;
    }
    if (request.method === "PUT") {
      uploads.push({
        path: name,
        contentType: request.headers["content-type"],
        contentLength: request.headers["content-length"],
      });
      await pipeline(request, createWriteStream(join(options.uploadDirectory, name)));
      response.writeHead(state.putStatus).end();
      return;
    }
    response.writeHead(405).end();
  }

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch(() => response.destroy());
  };
  let server: Server;
  let certificate: string | undefined;
  if (options.tls === true) {
    const credentials = await createTlsCredentials();
    certificate = credentials.cert;
    server = createHttpsServer(credentials, listener);
  } else {
    server = createHttpServer(listener);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls === true ? "https" : "http"}://127.0.0.1:${port}`,
    uploads,
    get putStatus() {
      return state.putStatus;
    },
    set putStatus(value: number) {
      state.putStatus = value;
    },
    certificate,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
