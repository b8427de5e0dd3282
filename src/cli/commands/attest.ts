import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { CloisterError } from "../../common/errors.ts";
import { attestPeer } from "./attest-peer.ts";
import type { AttestPeerOptions } from "./attest-peer.ts";
import {
  GramineEvidenceProvider,
  SIMULATION_NOTICE,
  SimulationEvidenceProvider,
  TsmEvidenceProvider,
  type EvidenceProvider,
} from "../../attestation/index.ts";

const exitFailed = 1;
const exitUnusableInput = 2;

interface AttestOptions extends Partial<AttestPeerOptions> {
  readonly provider?: string;
  readonly reportData?: string;
  readonly out?: string;
  readonly dataDir?: string;
  readonly baseDir?: string;
  readonly publicKeyOut?: string;
}

/** Input the command cannot use; its message names the option and the fix. */
class InputError extends Error {}

async function openProvider(options: AttestOptions): Promise<EvidenceProvider> {
  switch (options.provider) {
    case "simulation": {
      if (!options.dataDir) throw new InputError("--provider simulation needs --data-dir DIR");
      const provider = new SimulationEvidenceProvider({ dataDirectory: options.dataDir });
      if (options.publicKeyOut) {
        writeFileSync(
          options.publicKeyOut,
          provider.publicKey.export({ type: "spki", format: "pem" }),
        );
      }
      return provider;
    }
    case "tsm":
      return TsmEvidenceProvider.open(options.baseDir ? { baseDirectory: options.baseDir } : {});
    case "gramine":
      return new GramineEvidenceProvider(options.baseDir ? { baseDirectory: options.baseDir } : {});
    default:
      throw new InputError(`--provider ${options.provider} must be simulation, tsm or gramine`);
  }
}

async function attest(options: AttestOptions): Promise<void> {
  if (options.address !== undefined) {
    const verdict = await attestPeer({ ...options, address: options.address });
    process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
    process.exitCode = verdict.accepted ? 0 : exitFailed;
    return;
  }
  if (options.provider === undefined || options.out === undefined) {
    throw new InputError("pass --address HOST:PORT, or --provider and --out to write evidence");
  }
  const hex = options.reportData ?? "00".repeat(64);
  if (!/^[0-9a-fA-F]{128}$/.test(hex)) {
    throw new InputError("--report-data must be 128 hex characters (64 bytes)");
  }
  const provider = await openProvider({ ...options, provider: options.provider });
  const evidence = await provider.getEvidence(new Uint8Array(Buffer.from(hex, "hex")));
  writeFileSync(options.out, evidence.data);
  const summary = {
    kind: evidence.kind,
    bytes: evidence.data.length,
    out: options.out,
    ...(evidence.kind === "simulation"
      ? { hardwareProtected: false, notice: SIMULATION_NOTICE }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

/** Registers `cloister attest`, which writes evidence from a provider to a file. */
export function registerAttestCommand(program: Command): void {
  program
    .command("attest")
    .description(
      "Connect to an endpoint and verify and print its evidence (--address), or get evidence " +
        "from this machine's TEE (or the simulation) and write it to a file (--provider, --out)",
    )
    .option("--address <host:port>", "endpoint whose attested certificate to verify and print")
    .option("--simulation-key <file>", "with --address: PEM public key of a simulation platform")
    .option("--measurement <hex>", "with --address: code measurement to accept (simulation, SNP)")
    .option("--mr-enclave <hex>", "with --address: MRENCLAVE to accept (SGX)")
    .option("--mr-signer <hex>", "with --address: MRSIGNER to accept (SGX)")
    .option("--as-ca-cert <file>", "with --address: root of Teaclave attestation-service reports")
    .option("--provider <name>", "simulation, tsm (configfs-tsm) or gramine")
    .option("--out <file>", "file to write the evidence to")
    .option("--report-data <hex>", "64 bytes of report data as 128 hex characters (default zeros)")
    .option(
      "--data-dir <dir>",
      "simulation: directory of the simulation key; with --address: a platform data directory",
    )
    .option("--public-key-out <file>", "simulation: write the key's public PEM here, for verifiers")
    .option("--base-dir <dir>", "tsm or gramine: interface directory (default: the system path)")
    .action(async (options: AttestOptions) => {
      try {
        await attest(options);
      } catch (error) {
        if (error instanceof InputError) {
          process.stderr.write(`cloister attest: ${error.message}\n`);
          process.exitCode = exitUnusableInput;
          return;
        }
        if (CloisterError.is(error)) {
          process.stderr.write(`cloister attest: ${error.message}\n`);
          process.exitCode = error.code === "INVALID_ARGUMENT" ? exitUnusableInput : exitFailed;
          return;
        }
        throw error;
      }
    });
}
