import { writeFile } from "node:fs/promises";
import { CloisterError } from "../../common/errors.ts";
import { decodeDataUrl } from "./file-url.ts";
import type { FileTransport } from "./file-transport.ts";

/** `data:text/plain;base64,` URLs, which carry small inputs inline. */
export const dataUrlTransport: FileTransport = {
  async download(url, destination) {
    const bytes = decodeDataUrl(url.href);
    try {
      await writeFile(destination, bytes, { flag: "wx" });
    } catch (error) {
      if (
        typeof error === "object" &&
        error !== null &&
        "code" in error &&
        error.code === "EEXIST"
      ) {
        throw new CloisterError(
          "ALREADY_EXISTS",
          `download destination already exists: ${destination}`,
          { cause: error },
        );
      }
      throw error;
    }
  },

  async upload() {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "invalid output URL: data URLs cannot receive uploads",
    );
  },
};
