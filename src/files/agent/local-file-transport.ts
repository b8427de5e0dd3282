import { constants } from "node:fs";
import { copyFile, link, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { CloisterError } from "../../common/errors.ts";
import type { FileTransport, TransportOptions } from "./file-transport.ts";
import { checkLocalPath } from "./local-path-policy.ts";
import type { LocalPathPolicy } from "./local-path-policy.ts";

/** Never replace the destination; share blocks (reflink) where the file system can. */
const copyFlags = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String(error.code)
    : undefined;
}

/** Copies the regular file at `source` to `destination`, which must not exist. */
export async function copyLocalFile(source: string, destination: string): Promise<void> {
  const info = await stat(source).catch((error: unknown) => {
    throw new CloisterError("NOT_FOUND", `input file not found: ${source}`, { cause: error });
  });
  if (!info.isFile()) {
    throw new CloisterError("INVALID_ARGUMENT", `input path is not a regular file: ${source}`);
  }
  try {
    await copyFile(source, destination, copyFlags);
  } catch (error) {
    if (errorCode(error) === "EEXIST") {
      throw new CloisterError(
        "ALREADY_EXISTS",
        `download destination already exists: ${destination}`,
      );
    }
    throw error;
  }
}

/**
 * Moves `source` to `destination` without replacing an existing file. A hard link is
 * atomic and fails when the destination exists; across file systems the file is copied.
 * The source stays in place.
 */
export async function placeLocalFile(
  source: string,
  destination: string,
  createParents = false,
): Promise<void> {
  if (createParents) await mkdir(dirname(destination), { recursive: true });
  try {
    await link(source, destination);
    return;
  } catch (error) {
    const code = errorCode(error);
    if (code === "EEXIST") {
      throw new CloisterError(
        "ALREADY_EXISTS",
        `output file already exists: ${destination}; remove it or choose another destination`,
      );
    }
    if (code === "ENOENT") {
      throw new CloisterError("NOT_FOUND", `output directory not found: ${dirname(destination)}`);
    }
    if (code !== "EXDEV" && code !== "EPERM") throw error;
  }
  try {
    await copyFile(source, destination, copyFlags);
  } catch (error) {
    if (errorCode(error) === "EEXIST") {
      throw new CloisterError(
        "ALREADY_EXISTS",
        `output file already exists: ${destination}; remove it or choose another destination`,
      );
    }
    throw error;
  }
}

function allowedPaths(options: TransportOptions): LocalPathPolicy {
  return options.localPaths ?? { roots: [], forbidden: [] };
}

/** `file:` URLs on the executor's own disk, confined to the allowed directories. */
export const localFileTransport: FileTransport = {
  async download(url, destination, options) {
    const path = await checkLocalPath(fileURLToPath(url), allowedPaths(options), "read");
    await copyLocalFile(path, destination);
  },

  async upload(source, url, options) {
    const path = await checkLocalPath(fileURLToPath(url), allowedPaths(options), "write");
    await placeLocalFile(source, path);
  },
};
