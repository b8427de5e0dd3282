// Evidence from Gramine's /dev/attestation pseudo-filesystem inside an SGX enclave, as
// Gramine's Documentation/attestation.rst describes it.
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { CloisterError } from "../../common/errors.ts";
import { bytesEqual } from "../bytes.ts";
import type { Evidence, EvidenceProvider } from "../evidence.ts";
import { checkReportData } from "./simulation-provider.ts";

export const GRAMINE_ATTESTATION_DIRECTORY = "/dev/attestation";
/** REPORTDATA offset in an SGX quote v3: 48-byte header, then byte 320 of the report body. */
const QUOTE_REPORT_DATA_OFFSET = 48 + 320;

export interface GramineProviderOptions {
  /** Default: /dev/attestation. */
  readonly baseDirectory?: string;
}

/** SGX DCAP quotes from Gramine. The quote's REPORTDATA is checked against the request. */
export class GramineEvidenceProvider implements EvidenceProvider {
  readonly kind = "sgx-dcap-quote";
  private readonly base: string;
  /** Gramine's attestation state is per process, so requests must not interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: GramineProviderOptions = {}) {
    this.base = options.baseDirectory ?? GRAMINE_ATTESTATION_DIRECTORY;
  }

  async getEvidence(reportData: Uint8Array): Promise<Evidence> {
    checkReportData(reportData);
    const result = this.queue.then(() => this.request(reportData));
    this.queue = result.catch(() => undefined);
    return await result;
  }

  private async request(reportData: Uint8Array): Promise<Evidence> {
    let type: string;
    try {
      type = (await fs.readFile(join(this.base, "attestation_type"), "utf8")).trim();
    } catch (error) {
      throw new CloisterError(
        "UNAVAILABLE",
        `${this.base}/attestation_type cannot be read: run inside Gramine with SGX`,
        { cause: error },
      );
    }
    if (type !== "dcap") {
      throw new CloisterError(
        "UNAVAILABLE",
        `Gramine attestation type is "${type}": set sgx.remote_attestation = "dcap" in the manifest`,
      );
    }
    let quote: Uint8Array;
    try {
      await fs.writeFile(join(this.base, "user_report_data"), reportData);
      quote = new Uint8Array(await fs.readFile(join(this.base, "quote")));
    } catch (error) {
      throw new CloisterError("UNAVAILABLE", `Gramine quote request in ${this.base} failed`, {
        cause: error,
      });
    }
    const bound = quote.subarray(QUOTE_REPORT_DATA_OFFSET, QUOTE_REPORT_DATA_OFFSET + 64);
    if (bound.length !== 64 || !bytesEqual(bound, reportData)) {
      throw new CloisterError("INTEGRITY", "Gramine returned a quote for other report data");
    }
    return { kind: this.kind, data: quote };
  }
}
