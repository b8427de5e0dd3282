import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, mkdtemp, rm, rmdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { CloisterError } from "../common/errors.ts";
import type { FunctionRuntime } from "../functions/runtime.ts";
import { downloadFile, uploadFile } from "./agent/file-agent.ts";
import type { TransportOptions } from "./agent/file-transport.ts";
import type { LocalPathPolicy } from "./agent/local-path-policy.ts";
import type { FileCrypto } from "./file-crypto.ts";
import { fileSchemeFor } from "./schemes/file-scheme.ts";
import { StagedFileWriter, stagedKeySize } from "./staged/staged-file.ts";
import { StagedRuntime, readStagedOutput } from "./staged/staged-runtime.ts";
import type { StagedInput, StagedOutputTarget } from "./staged/staged-runtime.ts";

/** An input file as the task registered it. */
export interface TaskInputFile {
  readonly url: string;
  /** The registered 16-byte tag; checked for every schema except raw. */
  readonly cmac: Uint8Array;
  readonly crypto: FileCrypto;
}

/** An output file as the task registered it. */
export interface TaskOutputFile {
  readonly url: string;
  readonly crypto: FileCrypto;
}

/** The files of one task run, by slot name. */
export interface TaskFileSpec {
  readonly inputs: Readonly<Record<string, TaskInputFile>>;
  readonly outputs: Readonly<Record<string, TaskOutputFile>>;
}

export interface TaskFileOptions {
  /** Directory for the staged files; created when missing. */
  readonly workDirectory: string;
  /** Directory that `fusion:///TEACLAVE_FUSION_BASE/` maps to. */
  readonly fusionBaseDirectory: string;
  /** Directories that `file:` URLs may read and write; without it every `file:` URL is rejected. */
  readonly localPaths?: LocalPathPolicy;
  /** Maximum plaintext size of each output in bytes. */
  readonly maxOutputBytes: number;
  /** Extra trusted CA certificates (PEM) for `https:` URLs. */
  readonly httpsCa?: string | Buffer;
  /** Aborts downloads, verification and uploads in progress. */
  readonly signal?: AbortSignal;
}

/** The staged files of one run, handed to the function through `runtime`. */
export interface TaskFiles {
  readonly runtime: FunctionRuntime;
  /**
   * Encrypts every output with its registered crypto, uploads it, and returns the new cmac
   * (the 16-byte tag) of each output slot. A slot the function never created is published as
   * an empty file. Call it once, after the function has finished.
   */
  publish(): Promise<Record<string, Uint8Array>>;
  /** Removes every staged file. Safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Returns the name a teaclave-file-128 file was encrypted under: Teaclave stores downloads
 * under the URL's basename, so that is the name Intel's library checks.
 */
function protectedFileName(url: string): string {
  const { pathname } = new URL(url);
  try {
    return basename(decodeURIComponent(pathname));
  } catch {
    return basename(pathname);
  }
}

function inputIntegrityError(slot: string): CloisterError {
  return new CloisterError("INTEGRITY", `input "${slot}" failed its integrity check`);
}

/** Waits for every task and raises the first failure, so no transfer outlives the call. */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failure = results.find((result) => result.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

async function stageInput(
  slot: string,
  input: TaskInputFile,
  directory: string,
  index: number,
  transport: TransportOptions,
): Promise<StagedInput> {
  const downloaded = join(directory, `input-${index}.download`);
  await downloadFile(input.url, downloaded, transport);
  const scheme = fileSchemeFor(input.crypto);

  // 1. The file must carry the registered tag before any byte of it is decrypted.
  if (input.crypto.schema !== "raw") {
    const tag = await scheme.readTag(downloaded).catch(() => undefined);
    const matches =
      tag !== undefined && tag.length === input.cmac.length && timingSafeEqual(tag, input.cmac);
    if (!matches) throw inputIntegrityError(slot);
  }

  // 2. Decrypting verifies every tag while the plaintext goes into a staged file under a
  //    fresh key. The function gets the file only after the whole of it has verified.
  const staged = {
    path: join(directory, `input-${index}.staged`),
    key: randomBytes(stagedKeySize),
  };
  const writer = await StagedFileWriter.create(staged.path, staged.key);
  try {
    for await (const chunk of scheme.decrypt(downloaded, protectedFileName(input.url))) {
      transport.signal?.throwIfAborted();
      await writer.write(chunk);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    if (CloisterError.is(error) && error.code === "INTEGRITY") throw inputIntegrityError(slot);
    throw error;
  } finally {
    await rm(downloaded, { force: true });
  }
  return { ...staged, size: writer.size };
}

/**
 * Downloads and verifies every input of a task, and prepares its outputs. Inputs are
 * downloaded concurrently, their registered cmac is checked with a timing-safe compare, and
 * their plaintext is re-encrypted into staged files. Raises CloisterError INTEGRITY, naming
 * only the slot, when an input fails its cmac or tag check; nothing is left on disk then.
 */
export async function prepareTaskFiles(
  spec: TaskFileSpec,
  options: TaskFileOptions,
): Promise<TaskFiles> {
  for (const [slot, output] of Object.entries(spec.outputs)) {
    if (output.crypto.schema === "raw") {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `invalid file crypto schema raw for output "${slot}": use aes-gcm-128, aes-gcm-256 or teaclave-file-128`,
      );
    }
  }
  const transport: TransportOptions = {
    fusionBaseDirectory: options.fusionBaseDirectory,
    ...(options.localPaths === undefined ? {} : { localPaths: options.localPaths }),
    ...(options.httpsCa === undefined ? {} : { httpsCa: options.httpsCa }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  // A task without files, such as an echo, needs no directory, so it skips the four file
  // system calls that create and remove one.
  const needsDirectory =
    Object.keys(spec.inputs).length > 0 || Object.keys(spec.outputs).length > 0;
  const createdDirectory = needsDirectory
    ? await mkdir(options.workDirectory, { recursive: true })
    : undefined;
  const directory = needsDirectory ? await mkdtemp(join(options.workDirectory, "files-")) : "";
  const removeStagedFiles = async () => {
    if (!needsDirectory) return;
    await rm(directory, { recursive: true, force: true });
    // Only the work directory itself goes, and only when this call created it and it is empty.
    if (createdDirectory !== undefined) await rmdir(options.workDirectory).catch(() => undefined);
  };

  let runtime: StagedRuntime;
  try {
    const inputEntries = Object.entries(spec.inputs);
    const inputs = await settleAll(
      inputEntries.map(([slot, input], index) =>
        stageInput(slot, input, directory, index, transport),
      ),
    );
    const outputTargets = new Map<string, StagedOutputTarget>(
      Object.keys(spec.outputs).map((slot, index) => [
        slot,
        { path: join(directory, `output-${index}.staged`), key: randomBytes(stagedKeySize) },
      ]),
    );
    runtime = new StagedRuntime(
      new Map(inputEntries.map(([slot], index) => [slot, inputs[index]!])),
      outputTargets,
      options.maxOutputBytes,
    );
  } catch (error) {
    await removeStagedFiles();
    throw error;
  }

  let published = false;
  return {
    runtime,

    async publish() {
      if (published) {
        throw new CloisterError(
          "FAILED_PRECONDITION",
          "the outputs of this run were already published",
        );
      }
      published = true;
      runtime.seal();
      const entries = Object.entries(spec.outputs);
      const tags = await settleAll(
        entries.map(async ([slot, output], index) => {
          const encrypted = join(directory, `output-${index}.upload`);
          const source = readStagedOutput(slot, runtime.outputs.get(slot));
          const tag = await fileSchemeFor(output.crypto).encrypt(
            source,
            encrypted,
            protectedFileName(output.url),
          );
          options.signal?.throwIfAborted();
          await uploadFile(encrypted, output.url, transport);
          await rm(encrypted, { force: true });
          return tag;
        }),
      );
      return Object.fromEntries(
        entries.map(([slot], index) => [slot, new Uint8Array(tags[index]!)]),
      );
    },

    async dispose() {
      runtime.seal();
      await Promise.all(
        [...runtime.outputs.values()].map((output) => output.abort().catch(() => undefined)),
      );
      await removeStagedFiles();
    },
  };
}
