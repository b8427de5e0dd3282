import type { LocalPathPolicy } from "./local-path-policy.ts";

/** Settings every transport receives; each uses only the ones its scheme needs. */
export interface TransportOptions {
  /** Directories that `file:` URLs may read and write; without it every `file:` URL is rejected. */
  readonly localPaths?: LocalPathPolicy;
  /** Local directory that `fusion:///TEACLAVE_FUSION_BASE/` maps to. */
  readonly fusionBaseDirectory?: string;
  /** Extra trusted CA certificates (PEM) for `https:` URLs, for example a test server's. */
  readonly httpsCa?: string | Buffer;
  /** Aborts a transfer in progress. */
  readonly signal?: AbortSignal;
}

/**
 * Moves files between a URL and the executor's disk for one URL scheme. The agent runs
 * outside the trust boundary, so it moves only encrypted bytes (or raw inputs).
 */
export interface FileTransport {
  /**
   * Copies the file at `url` to `destination`, which must not exist. A failed download
   * removes what it wrote, never an existing file.
   */
  download(url: URL, destination: string, options: TransportOptions): Promise<void>;
  /** Uploads the local file `source` to `url`, never replacing an existing local file. */
  upload(source: string, url: URL, options: TransportOptions): Promise<void>;
}
