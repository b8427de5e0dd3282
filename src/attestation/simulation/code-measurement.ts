import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository this file belongs to: three levels above src/attestation/simulation. */
const defaultRoot = fileURLToPath(new URL("../../../", import.meta.url));
const cache = new Map<string, Uint8Array>();

function listFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.isFile() ? [path] : [];
  });
}

/**
 * Computes a SHA-256 measurement of the code that runs: every file under `<root>/src` plus
 * `<root>/package-lock.json`, in sorted path order, each hashed as its relative path, a NUL,
 * its length in decimal, a NUL and its content. The result is cached per root for the
 * process, so a rebuilt tree changes it only in a new process.
 */
export function measureCode(root: string = defaultRoot): Uint8Array {
  const cached = cache.get(root);
  if (cached) return cached;
  const files = [...listFiles(join(root, "src")), join(root, "package-lock.json")]
    .map((path) => ({ path, name: relative(root, path).split(sep).join("/") }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hash = createHash("sha256");
  for (const file of files) {
    const content = readFileSync(file.path);
    hash.update(`${file.name}\0${content.length}\0`);
    hash.update(content);
  }
  const measurement = new Uint8Array(hash.digest());
  cache.set(root, measurement);
  return measurement;
}
