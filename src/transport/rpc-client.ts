import tls from "node:tls";
import type { X509Certificate } from "node:crypto";
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
        options.onRejected?.(error);
        // Destroying the socket synchronously inside secureConnect aborts Node 20's http2.
        process.nextTick(() => socket.destroy(new Error("server verification failed")));
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
    interceptors: options.interceptors ?? [],
  };
  return options.protocol === "connect"
    ? createConnectTransport(common)
    : createGrpcTransport(common);
}
