import { realpath } from "node:fs/promises";
import { basename, dirname, join, relative, isAbsolute } from "node:path";
import { CloisterError } from "../../common/errors.ts";

/**
 * The local directories that `file:` URLs may name. A registered URL is user input, so without this
 * rule a data owner could make the executor read the platform's own keys or write anywhere
 * the server may write.
 */
export interface LocalPathPolicy {
  /** Directories under which `file:` URLs may read and write; none disables `file:` URLs. */
  readonly roots: readonly string[];
  /** Directories that stay out of reach even inside a root, such as the data directory. */
  readonly forbidden: readonly string[];
}

function isInside(path: string, directory: string): boolean {
  const relation = relative(directory, path);
  return relation === "" || (!relation.startsWith("..") && !isAbsolute(relation));
}

async function resolveDirectory(directory: string): Promise<string> {
  return realpath(directory).catch(() => directory);
}

/**
 * Resolves `path` with symbolic links followed (for a file still to be written, its parent
 * directory) and raises PERMISSION_DENIED unless it lies inside a root and outside every
 * forbidden directory.
 */
export async function checkLocalPath(
  path: string,
  policy: LocalPathPolicy,
  purpose: "read" | "write",
): Promise<string> {
  let resolved: string;
  try {
    resolved =
      purpose === "read"
        ? await realpath(path)
        : join(await realpath(dirname(path)), basename(path));
  } catch {
    // A missing file or directory is reported by the transfer itself, after this check
    // has seen that the unresolved path is allowed.
    resolved = path;
  }
  const roots = await Promise.all(policy.roots.map(resolveDirectory));
  const forbidden = await Promise.all(policy.forbidden.map(resolveDirectory));
  const allowed =
    roots.some((root) => isInside(resolved, root)) &&
    !forbidden.some((directory) => isInside(resolved, directory));
  if (!allowed) {
    throw new CloisterError(
      "PERMISSION_DENIED",
      `file URL path ${path} is outside the directories this platform serves file URLs from; ` +
        "use a path under a --file-root directory, or an http(s) URL",
    );
  }
  return resolved;
}
