import type { UserDirectory } from "../services/authentication/user-directory.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";

const bootstrapKey = "system/bootstrap";

/**
 * Creates the first PlatformAdmin, `admin`, once in the life of a platform. In development
 * mode its password is Teaclave's `teaclave`. Otherwise it is the configured password or a
 * generated one, and a generated one is returned so that the caller can show it once.
 */
export async function bootstrapAdmin(
  users: UserDirectory,
  storage: StorageBackend,
  options: { dev: boolean; password: string | undefined; generate: () => string },
): Promise<string | undefined> {
  if ((await storage.get(bootstrapKey)) !== undefined) return undefined;
  const generated = options.dev || options.password !== undefined ? undefined : options.generate();
  const password = options.dev ? "teaclave" : (options.password ?? generated ?? "");
  if ((await users.get("admin")) === undefined) {
    await users.create("admin", password, { kind: "PlatformAdmin" });
  }
  await storage.commit({
    writes: [
      {
        key: bootstrapKey,
        value: JSON.stringify({ at: new Date().toISOString() }),
        expectedVersion: 0,
      },
    ],
  });
  return generated;
}
