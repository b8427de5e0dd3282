import type { Interceptor, Transport } from "@connectrpc/connect";
import { createRpcTransport } from "../transport/rpc-client.ts";
import type { ServerVerifier } from "../transport/rpc-client.ts";

/** The address and server check of an SDK client's Cloister (or Teaclave) endpoint. */
export interface ClientOptions {
  /** `host:port` or a URL such as `https://127.0.0.1:7777`. */
  readonly address: string;
  /** Checks the endpoint's certificate before anything is sent. */
  readonly verifyServer: ServerVerifier;
  /** `grpc` (default) or `connect`. */
  readonly protocol?: "grpc" | "connect";
}

/** Mutable credentials shared by a client's interceptor. */
export interface Credentials {
  id: string;
  token: string;
}

export function baseUrlOf(address: string): string {
  return address.includes("://") ? address : `https://${address}`;
}

/** Creates the transport of an SDK client; it sends `id` and `token` metadata when set. */
export function createClientTransport(options: ClientOptions, credentials: Credentials): Transport {
  const attachCredentials: Interceptor = (next) => async (request) => {
    if (credentials.id !== "") request.header.set("id", credentials.id);
    if (credentials.token !== "") request.header.set("token", credentials.token);
    return next(request);
  };
  return createRpcTransport({
    baseUrl: baseUrlOf(options.address),
    verifyServer: options.verifyServer,
    interceptors: [attachCredentials],
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
  });
}
