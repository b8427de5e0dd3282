import { open } from "node:fs/promises";
import { CloisterError } from "../../common/errors.ts";
import { readFileRange } from "../file-chunks.ts";
import type { FileScheme } from "./file-scheme.ts";

/** Plaintext files: allowed for inputs, which then carry no tag to check. */
export const rawScheme: FileScheme = {
  async readTag() {
    return undefined;
  },

  async *decrypt(path) {
    const handle = await open(path, "r");
    try {
      yield* readFileRange(handle, 0, (await handle.stat()).size);
    } finally {
      await handle.close();
    }
  },

  async encrypt() {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "invalid file crypto schema raw for an output: use aes-gcm-128, aes-gcm-256 or teaclave-file-128",
    );
  },
};
