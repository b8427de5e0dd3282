import tls from "node:tls";
import type { X509Certificate } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { maxMessageBytes } from "./rpc-server.ts";
import type { TlsCredentials } from "./tls-credentials.ts";

/** Checks the server's certificate before any request is sent; throws to reject it. */
export type ServerVerifier = (certificate: X509Certificate) => void;

export interface RpcClientOptions {
  /** For example `https://127.0.0.1:7777`. */
  readonly baseUrl: string;
  readonly verifyServer: ServerVerifier;
  /**
   * The client's own certificate, for mutually attested internal links. A function is called
   * for each new connection, so refreshed credentials take effect without a new transport.
   */
  readonly clientCredentials?: TlsCredentials | (() => TlsCredentials);
  /** `grpc` (the default, as Teaclave's clients) or `connect`. */
  readonly protocol?: "grpc" | "connect";
  readonly interceptors?: Interceptor[];
  /** Called with the reason when a server is rejected, for local logs. */
  readonly onRejected?: (error: unknown) => void;
}

/**
 * Creates a transport over HTTP/2 and TLS whose connections are checked by `verifyServer`
 * as soon as the handshake completes. A rejected server receives no request.
 */
export function createRpcTransport(options: RpcClientOptions): Transport {
  const url = new URL(options.baseUrl);
  let rejectedAtMs = -1;
  const nameRejection: Interceptor = (next) => async (request) => {
    const startedAtMs = Date.now();
    try {
      return await next(request);
    } catch (error) {
      if (rejectedAtMs < startedAtMs) throw error;
      throw new ConnectError(
        "server verification failed",
        Code.Unavailable,
        undefined,
        undefined,
        error,
      );
    }
  };
  const createConnection = () => {
    const clientCredentials =
      typeof options.clientCredentials === "function"
        ? options.clientCredentials()
        : options.clientCredentials;
    const socket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 443),
      ALPNProtocols: ["h2"],
      minVersion: "TLSv1.2",
      // The certificate is self-signed and carries attestation evidence instead of a CA
      // chain; `verifyServer` checks it below.
      rejectUnauthorized: false,
      ...(clientCredentials === undefined
        ? {}
        : { key: clientCredentials.keyPem, cert: clientCredentials.certificatePem }),
    });
    socket.once("secureConnect", () => {
      try {
        const certificate = socket.getPeerX509Certificate();
        if (certificate === undefined) throw new Error("the server sent no certificate");
        options.verifyServer(certificate);
      } catch (error) {
        rejectedAtMs = Date.now();
        options.onRejected?.(error);
        // Destroying the socket synchronously inside secureConnect aborts Node 20's http2.
        // An error passed to destroy() can reach the HTTP/2 session while connect-node has
        // no error listener on it, which crashes the process, so the socket closes without
        // one and the interceptor below names the reason.
        process.nextTick(() => socket.destroy());
      }
    });
    return socket;
  };
  const common = {
    baseUrl: options.baseUrl,
    httpVersion: "2" as const,
    nodeOptions: { createConnection },
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    interceptors: [nameRejection, ...(options.interceptors ?? [])],
  };
  return options.protocol === "connect"
    ? createConnectTransport(common)
    : createGrpcTransport(common);
}
