// Evidence through the Linux configfs-tsm report interface (kernel 6.7 and later), as the ABI
// document Documentation/ABI/testing/configfs-tsm-report describes it.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { CloisterError } from "../../common/errors.ts";
import { bytesEqual } from "../bytes.ts";
import type { Evidence, EvidenceKind, EvidenceProvider } from "../evidence.ts";
import { checkReportData } from "./simulation-provider.ts";
import { parseCertificateTable } from "./snp-certificate-table.ts";

export const TSM_REPORT_DIRECTORY = "/sys/kernel/config/tsm/report";

/**
 * The file operations the provider performs. configfs creates an entry's attributes on
 * `mkdir` and removes them on `rmdir`; tests pass an implementation that does the same.
 */
export interface TsmFileSystem {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Writes `data` in a single write call, as configfs attributes require. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
}

const nodeFileSystem: TsmFileSystem = {
  mkdir: (path) => fs.mkdir(path).then(() => undefined),
  rmdir: (path) => fs.rmdir(path),
  readFile: async (path) => new Uint8Array(await fs.readFile(path)),
  async writeFile(path, data) {
    const handle = await fs.open(path, "w");
    try {
      const { bytesWritten } = await handle.write(data, 0, data.length, null);
      if (bytesWritten !== data.length) throw new Error(`short write to ${path}`);
    } finally {
      await handle.close();
    }
  },
};

export interface TsmProviderOptions {
  /** Default: /sys/kernel/config/tsm/report. */
  readonly baseDirectory?: string;
  /** SEV-SNP VMPL to request (`privlevel`); unset leaves the kernel's default. */
  readonly privilegeLevel?: number;
  /** Attempts when another writer changes the entry meanwhile. Default 3. */
  readonly maxAttempts?: number;
  readonly fileSystem?: TsmFileSystem;
}

const PROVIDER_KINDS: Readonly<Record<string, EvidenceKind>> = {
  tdx_guest: "tdx-dcap-quote",
  sev_guest: "sev-snp-report",
};

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function mapError(error: unknown, path: string): CloisterError {
  if (CloisterError.is(error)) return error;
  const code = errnoOf(error);
  const cause = { cause: error };
  if (code === "ENOENT") {
    return new CloisterError(
      "UNAVAILABLE",
      `configfs-tsm is not available at ${path}: needs Linux 6.7+ in a TDX or SEV-SNP guest with configfs mounted`,
      cause,
    );
  }
  if (code === "EACCES" || code === "EPERM") {
    return new CloisterError("PERMISSION_DENIED", `no permission on ${path}: run as root`, cause);
  }
  if (code === "EBUSY") {
    return new CloisterError(
      "UNAVAILABLE",
      `a quote request is in flight at ${path}: retry`,
      cause,
    );
  }
  if (code === "EFBIG") {
    return new CloisterError(
      "RESOURCE_EXHAUSTED",
      `outblob at ${path} exceeds the kernel limit`,
      cause,
    );
  }
  return new CloisterError(
    "INTERNAL",
    `configfs-tsm request at ${path} failed (${code ?? "error"})`,
    cause,
  );
}

/** Offset of the report data in the evidence the kernel returns, per provider. */
function reportDataOf(kind: EvidenceKind, outblob: Uint8Array): Uint8Array | undefined {
  if (kind === "sev-snp-report") return outblob.subarray(0x50, 0x90);
  const version = outblob.length >= 2 ? outblob[0]! | (outblob[1]! << 8) : 0;
  const offset = version === 5 ? 48 + 6 + 520 : 48 + 520;
  return outblob.length >= offset + 64 ? outblob.subarray(offset, offset + 64) : undefined;
}

/** TDX quotes or SEV-SNP reports through configfs-tsm. Create it with `TsmEvidenceProvider.open`. */
export class TsmEvidenceProvider implements EvidenceProvider {
  readonly kind: EvidenceKind;
  private readonly base: string;
  private readonly files: TsmFileSystem;
  private readonly options: TsmProviderOptions;

  private constructor(kind: EvidenceKind, options: TsmProviderOptions) {
    this.kind = kind;
    this.base = options.baseDirectory ?? TSM_REPORT_DIRECTORY;
    this.files = options.fileSystem ?? nodeFileSystem;
    this.options = options;
  }

  /** Probes the TSM provider (`tdx_guest` or `sev_guest`) with a short-lived entry. */
  static async open(options: TsmProviderOptions = {}): Promise<TsmEvidenceProvider> {
    const base = options.baseDirectory ?? TSM_REPORT_DIRECTORY;
    const files = options.fileSystem ?? nodeFileSystem;
    const entry = join(base, `cloister-probe-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      await files.mkdir(entry);
    } catch (error) {
      throw mapError(error, base);
    }
    try {
      const provider = Buffer.from(await files.readFile(join(entry, "provider")))
        .toString()
        .trim();
      const kind = PROVIDER_KINDS[provider];
      if (!kind) {
        throw new CloisterError(
          "UNAVAILABLE",
          `configfs-tsm provider ${provider} is not supported`,
        );
      }
      return new TsmEvidenceProvider(kind, options);
    } catch (error) {
      throw mapError(error, entry);
    } finally {
      await files.rmdir(entry).catch(() => undefined);
    }
  }

  async getEvidence(reportData: Uint8Array): Promise<Evidence> {
    checkReportData(reportData);
    const attempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const evidence = await this.requestOnce(reportData);
      if (evidence) return evidence;
    }
    throw new CloisterError(
      "ABORTED",
      `another writer changed the configfs-tsm entry in each of ${attempts} attempts: retry later`,
    );
  }

  /** Runs one request in a fresh entry. Returns undefined when a concurrent writer interfered. */
  private async requestOnce(reportData: Uint8Array): Promise<Evidence | undefined> {
    const entry = join(this.base, `cloister-${process.pid}-${randomBytes(8).toString("hex")}`);
    const files = this.files;
    try {
      await files.mkdir(entry);
    } catch (error) {
      throw mapError(error, this.base);
    }
    try {
      const readText = async (name: string): Promise<string> =>
        Buffer.from(await files.readFile(join(entry, name)))
          .toString()
          .trim();
      const provider = await readText("provider");
      if (PROVIDER_KINDS[provider] !== this.kind) {
        throw new CloisterError(
          "FAILED_PRECONDITION",
          `configfs-tsm provider changed to ${provider}`,
        );
      }
      if (this.options.privilegeLevel !== undefined) {
        await files.writeFile(
          join(entry, "privlevel"),
          Buffer.from(`${this.options.privilegeLevel}\n`),
        );
      }
      const before = Number(await readText("generation"));
      await files.writeFile(join(entry, "inblob"), reportData);
      const outblob = await files.readFile(join(entry, "outblob"));
      const auxblob =
        this.kind === "sev-snp-report"
          ? await files.readFile(join(entry, "auxblob")).catch((error: unknown) => {
              // Kernels before the auxblob attribute (and hosts without certificates) lack it.
              if (errnoOf(error) === "ENOENT") return new Uint8Array();
              throw error;
            })
          : new Uint8Array();
      // Our inblob write is the only change we make after reading `before`.
      const after = Number(await readText("generation"));
      if (after !== before + 1) return undefined;

      const bound = reportDataOf(this.kind, outblob);
      if (!bound || !bytesEqual(bound, reportData)) {
        throw new CloisterError(
          "INTEGRITY",
          "configfs-tsm returned evidence for other report data",
        );
      }
      const certificates = auxblob.length > 0 ? parseCertificateTable(auxblob) : undefined;
      return { kind: this.kind, data: outblob, ...(certificates ? { certificates } : {}) };
    } catch (error) {
      throw mapError(error, entry);
    } finally {
      await files.rmdir(entry).catch(() => undefined);
    }
  }
}
