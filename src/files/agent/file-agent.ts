import type { FileDirection } from "../file-crypto.ts";
import { dataUrlTransport } from "./data-url-transport.ts";
import type { FileTransport, TransportOptions } from "./file-transport.ts";
import { validateFileUrl } from "./file-url.ts";
import type { FileUrlScheme } from "./file-url.ts";
import { fusionTransport } from "./fusion-transport.ts";
import { httpTransport } from "./http-transport.ts";
import { localFileTransport } from "./local-file-transport.ts";

const transports: Record<FileUrlScheme, FileTransport> = {
  file: localFileTransport,
  http: httpTransport,
  https: httpTransport,
  data: dataUrlTransport,
  fusion: fusionTransport,
};

function transportFor(
  url: string,
  direction: FileDirection,
): { parsed: URL; transport: FileTransport } {
  const parsed = validateFileUrl(url, direction);
  return { parsed, transport: transports[parsed.protocol.slice(0, -1) as FileUrlScheme] };
}

/**
 * Downloads the file at `url` to `destination`, which must not exist. Raises
 * INVALID_ARGUMENT for a URL that cannot be an input, and the transport's error otherwise.
 */
export async function downloadFile(
  url: string,
  destination: string,
  options: TransportOptions = {},
): Promise<void> {
  const { parsed, transport } = transportFor(url, "input");
  options.signal?.throwIfAborted();
  await transport.download(parsed, destination, options);
}

/** Uploads the local file `source` to `url`; a local destination is never replaced. */
export async function uploadFile(
  source: string,
  url: string,
  options: TransportOptions = {},
): Promise<void> {
  const { parsed, transport } = transportFor(url, "output");
  options.signal?.throwIfAborted();
  await transport.upload(source, parsed, options);
}
