import { createContextKey } from "@connectrpc/connect";

/** The peer's IP address as the server socket saw it, empty for in-process calls. */
export const remoteAddressKey = createContextKey<string>("", { description: "remote address" });

/**
 * The verified identity of the service at the other end of an internal link: its service
 * name, taken from its attested certificate. Empty for calls inside one process and on the
 * public endpoints.
 */
export const peerServiceKey = createContextKey<string>("", { description: "peer service" });
