import type { Command } from "commander";
import { encryptFile } from "../../files/index.ts";
import { registerFileCryptoCommand } from "./file-crypto.ts";

/** Registers `cloister encrypt`: encrypts a local file for registration as task input. */
export function registerEncryptCommand(program: Command): void {
  registerFileCryptoCommand(
    program,
    "encrypt",
    "Encrypt a local file with a FileCrypto algorithm, as Teaclave's CLI does",
    encryptFile,
  );
}
