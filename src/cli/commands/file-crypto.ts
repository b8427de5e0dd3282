import { constants } from "node:fs";
import { access } from "node:fs/promises";
import type { Command } from "commander";
import { CloisterError } from "../../common/errors.ts";
import { parseFileCrypto } from "../../files/index.ts";
import type { FileCrypto } from "../../files/index.ts";

/** Exit code for input the command cannot use: bad flags, keys or paths. */
const exitUnusableInput = 2;
/** Exit code for a failed operation, such as a file that fails its integrity check. */
const exitFailed = 1;

/** Key and IV sizes in bytes of the algorithms the commands accept. */
const algorithms: Record<string, { key: number; iv: number }> = {
  "aes-gcm-128": { key: 16, iv: 12 },
  "aes-gcm-256": { key: 32, iv: 12 },
  "teaclave-file-128": { key: 16, iv: 0 },
};

interface FileCryptoOptions {
  readonly algorithm?: string;
  readonly key?: string;
  readonly iv?: string;
  readonly inputFile?: string;
  readonly outputFile?: string;
  readonly printCmac?: boolean;
}

class UsageError extends Error {}

function requireOption(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing required option ${flag}`);
  return value;
}

/** Decodes a hex flag, naming the flag and the expected length but never echoing the value. */
function parseHex(value: string, flag: string, expectedBytes: number, algorithm: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
    throw new UsageError(
      `${flag} must be an even number of hexadecimal digits (${expectedBytes} bytes for ${algorithm})`,
    );
  }
  const bytes = Buffer.from(value, "hex");
  if (bytes.length !== expectedBytes) {
    throw new UsageError(
      `${flag} must be ${expectedBytes} bytes (${expectedBytes * 2} hex digits) for ${algorithm}, ` +
        `got ${bytes.length} bytes`,
    );
  }
  return bytes;
}

function parseCrypto(options: FileCryptoOptions): FileCrypto {
  const algorithm = requireOption(options.algorithm, "--algorithm");
  const sizes = algorithms[algorithm];
  if (sizes === undefined) {
    throw new UsageError(
      `--algorithm "${algorithm}" is not supported; use ${Object.keys(algorithms).join(", ")}`,
    );
  }
  const key = parseHex(requireOption(options.key, "--key"), "--key", sizes.key, algorithm);
  const iv =
    sizes.iv === 0
      ? parseHex(options.iv ?? "", "--iv", 0, algorithm)
      : parseHex(requireOption(options.iv, "--iv"), "--iv", sizes.iv, algorithm);
  return parseFileCrypto({ schema: algorithm, key, iv }, "input");
}

async function run(
  options: FileCryptoOptions,
  operation: (input: string, output: string, crypto: FileCrypto) => Promise<Uint8Array>,
): Promise<void> {
  const crypto = parseCrypto(options);
  const input = requireOption(options.inputFile, "--input-file");
  const output = requireOption(options.outputFile, "--output-file");
  try {
    await access(input, constants.R_OK);
  } catch {
    throw new UsageError(`input file ${input} not found or not readable`);
  }
  const tag = await operation(input, output, crypto);
  if (options.printCmac === true) process.stdout.write(`${Buffer.from(tag).toString("hex")}\n`);
}

/** Prints the failure to stderr and returns the exit code for it. */
function reportFailure(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    return exitUnusableInput;
  }
  if (CloisterError.is(error)) {
    process.stderr.write(`error: ${error.message}\n`);
    return error.code === "INTEGRITY" || error.code === "INTERNAL" ? exitFailed : exitUnusableInput;
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return exitFailed;
}

/**
 * Registers `cloister encrypt` or `cloister decrypt` with the flags of Teaclave's CLI:
 * `--algorithm --key [--iv] --input-file --output-file [--print-cmac]`.
 */
export function registerFileCryptoCommand(
  program: Command,
  name: "encrypt" | "decrypt",
  description: string,
  operation: (input: string, output: string, crypto: FileCrypto) => Promise<Uint8Array>,
): void {
  program
    .command(name)
    .description(description)
    .option("--algorithm <name>", "aes-gcm-128, aes-gcm-256 or teaclave-file-128")
    .option("--key <hex>", "key as hex: 16 bytes, or 32 bytes for aes-gcm-256")
    .option(
      "--iv <hex>",
      "IV as hex, 12 bytes; required for aes-gcm, omitted for teaclave-file-128",
    )
    .option("--input-file <path>", "file to read")
    .option("--output-file <path>", "file to create; an existing file is not replaced")
    .option("--print-cmac", "print the file's 16-byte tag (its cmac) as lowercase hex")
    .exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : exitUnusableInput);
    })
    .action(async (options: FileCryptoOptions) => {
      try {
        await run(options, operation);
      } catch (error) {
        process.exitCode = reportFailure(error);
      }
    });
}
