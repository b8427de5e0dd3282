import { join, relative, resolve, isAbsolute } from "node:path";
import { CloisterError } from "../../common/errors.ts";
import { fusionPathSegments } from "./file-url.ts";
import type { FileTransport, TransportOptions } from "./file-transport.ts";
import { copyLocalFile, placeLocalFile } from "./local-file-transport.ts";

/** Maps `fusion:///TEACLAVE_FUSION_BASE/<rel>` to `<fusion base directory>/<rel>`. */
export function fusionPath(url: URL, options: TransportOptions): string {
  const base = options.fusionBaseDirectory;
  if (base === undefined || base === "") {
    throw new CloisterError(
      "FAILED_PRECONDITION",
      "fusion URLs need a fusion base directory; set fusionBaseDirectory",
    );
  }
  const root = resolve(base);
  const path = join(root, ...fusionPathSegments(url));
  const inside = relative(root, path);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid fusion URL: ${url.pathname} leaves the fusion base`,
    );
  }
  return path;
}

/** `fusion:` URLs: files shared by several owners in the executor's fusion base directory. */
export const fusionTransport: FileTransport = {
  async download(url, destination, options) {
    await copyLocalFile(fusionPath(url, options), destination);
  },

  async upload(source, url, options) {
    await placeLocalFile(source, fusionPath(url, options), true);
  },
};
