import type { FileCrypto } from "../../files/file-crypto.ts";
import type { PlatformKey } from "../../security/platform-key.ts";

interface CryptoJson {
  schema: FileCrypto["schema"];
  key?: string;
  iv?: string;
}

/** Seals a file's crypto info for storage; the data id binds it to its record. */
export function sealFileCrypto(
  platformKey: PlatformKey,
  dataUuid: string,
  crypto: FileCrypto,
): string {
  const json: CryptoJson = { schema: crypto.schema };
  if ("key" in crypto) json.key = Buffer.from(crypto.key).toString("hex");
  if ("iv" in crypto) json.iv = Buffer.from(crypto.iv).toString("hex");
  const sealed = platformKey.seal(Buffer.from(JSON.stringify(json)), `data/${dataUuid}/crypto`);
  return sealed.toString("base64");
}

/** Opens a value made by `sealFileCrypto`. */
export function unsealFileCrypto(
  platformKey: PlatformKey,
  dataUuid: string,
  sealed: string,
): FileCrypto {
  const text = platformKey.unseal(Buffer.from(sealed, "base64"), `data/${dataUuid}/crypto`);
  const json = JSON.parse(text.toString("utf8")) as CryptoJson;
  const key = Buffer.from(json.key ?? "", "hex");
  const iv = Buffer.from(json.iv ?? "", "hex");
  switch (json.schema) {
    case "raw":
      return { schema: "raw" };
    case "aes-gcm-128":
    case "aes-gcm-256":
      return { schema: json.schema, key, iv };
    case "teaclave-file-128":
      return { schema: json.schema, key };
  }
}

/** Returns the uuid part of `input-<uuid>` or `output-<uuid>`, to which sealing binds. */
export function dataUuid(dataId: string): string {
  return dataId.slice(dataId.indexOf("-") + 1);
}
