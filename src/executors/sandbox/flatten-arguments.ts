/**
 * Flattens a task's argument object into the `argv` list that Python and WebAssembly functions
 * receive, as Teaclave does: keys in sorted order, `[k1, v1, k2, v2, ...]`. String values are
 * passed as they are and any other value as its JSON text.
 *
 * Teaclave sorts because serde_json's map is a BTreeMap, which orders keys by their UTF-8
 * bytes; JavaScript's default sort compares UTF-16 code units, which differs only for keys
 * with characters above U+FFFF next to characters in U+E000..U+FFFF. Sorting by bytes keeps
 * the exact Teaclave order.
 */
export function flattenArguments(args: Readonly<Record<string, unknown>>): string[] {
  const keys = Object.keys(args).sort(compareUtf8);
  const argv: string[] = [];
  for (const key of keys) {
    const value = args[key];
    argv.push(key, typeof value === "string" ? value : JSON.stringify(value ?? null));
  }
  return argv;
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
