import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CloisterError } from "../../common/errors.ts";
import { parseEnclaveInfo, verifyAuditorSignatures } from "../../attestation/index.ts";

const exitRejected = 1;
const exitUnusableInput = 2;

interface VerifyOptions {
  readonly enclaveInfo: string;
  readonly publicKeys: readonly string[];
  readonly signatures: readonly string[];
  readonly threshold?: string;
}

/** Input the command cannot use; its message names the file or option and the fix. */
class InputError extends Error {}

function read(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InputError(`${option} ${path} cannot be read (${reason}): check the path`);
  }
}

function run(options: VerifyOptions): number {
  const content = read(options.enclaveInfo, "--enclave-info");
  const publicKeys = options.publicKeys.map((path) => read(path, "--public-keys").toString());
  const signatures = options.signatures.map((path) => read(path, "--signatures"));
  let threshold: number | undefined;
  if (options.threshold !== undefined) {
    threshold = Number(options.threshold);
    if (!Number.isInteger(threshold)) {
      throw new InputError(`--threshold ${options.threshold} must be a whole number`);
    }
  }
  let identities;
  try {
    identities = parseEnclaveInfo(content.toString("utf8"));
  } catch (error) {
    if (CloisterError.is(error))
      throw new InputError(`--enclave-info ${options.enclaveInfo}: ${error.message}`);
    throw error;
  }
  let signers: number[];
  try {
    signers = verifyAuditorSignatures({
      content,
      publicKeys,
      signatures,
      ...(threshold === undefined ? {} : { threshold }),
    });
  } catch (error) {
    if (CloisterError.is(error) && error.code === "INTEGRITY") {
      const detail = error.cause instanceof Error ? ` (${error.cause.message})` : "";
      process.stderr.write(`cloister verify: ${error.message}${detail}\n`);
      return exitRejected;
    }
    throw error;
  }
  const report = {
    verified: true,
    signers: signers.map((index) => options.publicKeys[index]),
    services: Object.fromEntries(identities),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

/** Registers `cloister verify`, the auditor signature check of enclave_info.toml. */
export function registerVerifyCommand(program: Command): void {
  program
    .command("verify")
    .description("Check auditor signatures over enclave_info.toml (k of n distinct auditors)")
    .requiredOption("--enclave-info <file>", "enclave_info.toml")
    .requiredOption("--public-keys <files...>", "auditor RSA public keys, PEM (PKCS#1 or SPKI)")
    .requiredOption("--signatures <files...>", "signatures from `openssl dgst -sha256 -sign`")
    .option("--threshold <n>", "distinct auditors required (default: every key)")
    .action((options: VerifyOptions) => {
      try {
        process.exitCode = run(options);
      } catch (error) {
        if (
          error instanceof InputError ||
          (CloisterError.is(error) && error.code === "INVALID_ARGUMENT")
        ) {
          process.stderr.write(`cloister verify: ${error.message}\n`);
          process.exitCode = exitUnusableInput;
          return;
        }
        throw error;
      }
    });
}
