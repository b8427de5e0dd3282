import http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import type { X509Certificate } from "node:crypto";
import type { ConnectRouter } from "@connectrpc/connect";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "../common/logger.ts";
import { peerServiceKey, remoteAddressKey } from "./context-keys.ts";
import { createGrpcUnaryHandler } from "./grpc-unary-handler.ts";
import { createRejectionLog } from "./rejection-log.ts";
import { rejectionReason } from "./rejection-reason.ts";
import type { TlsCredentials } from "./tls-credentials.ts";

/** Teaclave's limit on a gRPC message, in both directions. */
export const maxMessageBytes = 4 * 1024 * 1024;

/**
 * Longest `grpc-timeout` a call may set, in milliseconds: the longest delay Node.js timers
 * support (about 24.8 days). A longer one gets INVALID_ARGUMENT instead of a timer that
 * would fire at once.
 */
const maxTimeoutMs = 2_147_483_647;

const peerServiceSymbol = Symbol("cloister.peerService");

/**
 * Responds to a request for an unknown service or method. gRPC clients get UNIMPLEMENTED as
 * trailers, as gRPC servers send it; anything else gets a plain 404.
 */
type NodeHandler = NonNullable<Parameters<typeof connectNodeAdapter>[0]["fallback"]>;

const answerUnknownMethod: NodeHandler = (request, response) => {
  const contentType = String(request.headers["content-type"] ?? "");
  if (contentType.startsWith("application/grpc") && "addTrailers" in response) {
    response.writeHead(200, { "content-type": contentType });
    response.addTrailers({
      "grpc-status": "12",
      "grpc-message": encodeURIComponent(`unknown method ${request.url ?? ""}`),
    });
    response.end();
    return;
  }
  response.writeHead(404, { "content-type": "text/plain" });
  response.end(`unknown method ${request.url ?? ""}\n`);
};

/** Checks a client certificate and returns the service name it proves, or throws. */
export type ClientVerifier = (certificate: X509Certificate) => string;

export interface RpcServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly credentials: TlsCredentials;
  readonly routes: (router: ConnectRouter) => void;
  readonly logger: Logger;
  /**
   * For internal links: demands a client certificate and accepts the connection only when
   * the verifier accepts it. Public endpoints leave it unset.
   */
  readonly verifyClient?: ClientVerifier;
}

export interface RpcServer {
  readonly port: number;
  /** Replaces the TLS key and certificate for new connections; open ones continue. */
  setCredentials(credentials: TlsCredentials): void;
  close(): Promise<void>;
}

/**
 * Serves Connect services over HTTP/2 with TLS, for the gRPC, gRPC-Web and Connect
 * protocols. Clients verify the server's certificate themselves (attested TLS), so the
 * certificate need not chain to any CA.
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { logger, verifyClient } = options;
  const contextValues = (request: { socket: unknown }) => {
    const values = createContextValues();
    const socket = request.socket as TLSSocket & { [peerServiceSymbol]?: string };
    values.set(remoteAddressKey, socket.remoteAddress ?? "");
    values.set(peerServiceKey, socket[peerServiceSymbol] ?? "");
    return values;
  };
  // Plain unary gRPC takes the short path; Connect serves the other protocols and forms.
  const handler = createGrpcUnaryHandler({
    routes: options.routes,
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    maxTimeoutMs,
    contextValues,
    onInternalError: (error, path) => logger.error({ err: error, path }, "request failed"),
    fallback: connectNodeAdapter({
      routes: options.routes,
      readMaxBytes: maxMessageBytes,
      writeMaxBytes: maxMessageBytes,
      maxTimeoutMs,
      fallback: answerUnknownMethod,
      contextValues,
    }),
  });
  const server = http2.createSecureServer({
    key: options.credentials.keyPem,
    cert: options.credentials.certificatePem,
    allowHTTP1: true,
    minVersion: "TLSv1.2",
    requestCert: verifyClient !== undefined,
    rejectUnauthorized: false,
  });
  server.on("request", (request, response) => {
    // A request on a connection that did not pass the client check is never served, even
    // if its frames were read before the check destroyed the socket.
    const socket = request.socket as TLSSocket & { [peerServiceSymbol]?: string };
    if (verifyClient !== undefined && socket[peerServiceSymbol] === undefined) {
      socket.destroy();
      return;
    }
    handler(request, response);
  });
  if (verifyClient !== undefined) {
    const logRejection = createRejectionLog(logger, "client rejected");
    // Prepended, so that it runs before the HTTP/2 server's own listener creates the
    // session, which may read frames that arrived with the end of the handshake.
    server.prependListener(
      "secureConnection",
      (socket: TLSSocket & { [peerServiceSymbol]?: string }) => {
        try {
          const certificate = socket.getPeerX509Certificate();
          if (certificate === undefined) {
            throw Object.assign(new Error("the client sent no certificate"), {
              code: "CLIENT_CERTIFICATE_MISSING",
            });
          }
          socket[peerServiceSymbol] = verifyClient(certificate);
        } catch (error) {
          logRejection({
            err: error,
            remoteAddress: socket.remoteAddress,
            remotePort: socket.remotePort,
            reason: rejectionReason(error),
          });
          socket.destroy();
        }
      },
    );
  }
  server.on("tlsClientError", (error) => logger.debug({ err: error }, "TLS handshake failed"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    setCredentials(credentials) {
      server.setSecureContext({ key: credentials.keyPem, cert: credentials.certificatePem });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.close();
        // Sessions that do not end by themselves are torn down.
        setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, 1000).unref();
      });
    },
  };
}
