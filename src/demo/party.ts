import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { FileCrypto } from "../files/file-crypto.ts";
import { decryptFile, encryptFile } from "../files/index.ts";
import type { AuthenticationClient } from "../sdk/authentication-client.ts";
import type { CryptoInfo, FrontendClient } from "../sdk/frontend-client.ts";

/** One party of the demo: a user with its own clients and its own keys. */
export interface Party {
  readonly id: string;
  readonly authentication: AuthenticationClient;
  readonly frontend: FrontendClient;
}

/** Makes a fresh random key (and IV) for a file on the party's own machine. */
export function newFileCrypto(
  schema: "aes-gcm-256" | "teaclave-file-128",
): FileCrypto & CryptoInfo {
  return schema === "aes-gcm-256"
    ? { schema, key: randomBytes(32), iv: randomBytes(12) }
    : { schema, key: randomBytes(16) };
}

/** Encrypts a local file for upload and returns its tag, which registration calls the cmac. */
export async function encryptLocalFile(
  crypto: FileCrypto,
  plaintextPath: string,
  encryptedPath: string,
): Promise<Buffer> {
  return Buffer.from(await encryptFile(plaintextPath, encryptedPath, crypto));
}

/** Decrypts a downloaded output with the party's own key and returns its text. */
export async function decryptLocalFile(crypto: FileCrypto, encryptedPath: string): Promise<string> {
  const plaintextPath = `${encryptedPath}.${randomBytes(4).toString("hex")}.txt`;
  await decryptFile(encryptedPath, plaintextPath, crypto);
  return readFile(plaintextPath, "utf8");
}
