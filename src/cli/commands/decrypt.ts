import type { Command } from "commander";
import { decryptFile } from "../../files/index.ts";
import { registerFileCryptoCommand } from "./file-crypto.ts";

/** Registers `cloister decrypt`: decrypts a task output after checking every tag. */
export function registerDecryptCommand(program: Command): void {
  registerFileCryptoCommand(
    program,
    "decrypt",
    "Decrypt a file written with a FileCrypto algorithm, as Teaclave's CLI does",
    decryptFile,
  );
}
