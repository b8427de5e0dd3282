// Measures file crypto throughput for each format (AES-GCM-128/256, teaclave-file-128 and the
// staged format), in memory and file to file, next to `openssl speed` on one core, and streams
// a large input through the whole task-file pipeline while sampling RSS. Prints one Markdown
// section; progress goes to stderr. Sizes: CLOISTER_BENCH_FILE_MIB (default 256) and
// CLOISTER_BENCH_PIPELINE_MIB (default 1024).
import { spawnSync } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { readFileRange } from "../src/files/file-chunks.ts";
import {
  decryptFile,
  encryptFile,
  generateFileCrypto,
  prepareTaskFiles,
} from "../src/files/index.ts";
import type { FileCrypto } from "../src/files/index.ts";
import { fileSchemeFor } from "../src/files/schemes/file-scheme.ts";
import { nodeSize, openNode, sealNode } from "../src/files/protected-fs/protected-fs-layout.ts";
import {
  StagedFileWriter,
  readStagedFile,
  stagedChunkSize,
} from "../src/files/staged/staged-file.ts";

const mebibyte = 1024 * 1024;
const fileMebibytes = Number(process.env["CLOISTER_BENCH_FILE_MIB"] ?? 256);
const pipelineMebibytes = Number(process.env["CLOISTER_BENCH_PIPELINE_MIB"] ?? 1024);
const directory = mkdtempSync(join(tmpdir(), "cloister-files-bench-"));

interface Row {
  readonly name: string;
  readonly mbPerSecond: number;
  readonly note: string;
}

/** Yields `size` bytes in 1 MiB blocks of one random pattern, so no large buffer is held. */
async function* pattern(size: number): AsyncGenerator<Buffer> {
  const block = randomBytes(mebibyte);
  for (let offset = 0; offset < size; offset += mebibyte) {
    yield block.subarray(0, Math.min(mebibyte, size - offset));
  }
}

/** Repetitions of each measurement; the table keeps the fastest, the least disturbed by load. */
const repetitions = 3;

async function timed(
  name: string,
  bytes: number,
  note: string,
  run: () => Promise<unknown>,
  cleanUp: () => Promise<unknown> = async () => undefined,
): Promise<Row> {
  process.stderr.write(`bench files: ${name}\n`);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repetitions; i++) {
    await cleanUp();
    const started = performance.now();
    await run();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return { name, mbPerSecond: bytes / 1e6 / best, note };
}

/** Plaintext bytes of one in-memory pass, which repeats over the same buffer. */
const memoryPassBytes = 64 * mebibyte;
/** Plaintext bytes of each in-memory row, rounded to whole passes. */
const memoryBytes = Math.max(1, Math.round(fileMebibytes / 64)) * memoryPassBytes;

/**
 * Times `run` on `bytes` bytes in memory, fastest of `repetitions`. `run(pass)` handles one
 * pass of `memoryPassBytes` and is called `bytes / memoryPassBytes` times (at least once).
 */
function timedInMemory(
  name: string,
  bytes: number,
  note: string,
  run: (pass: number) => void,
): Row {
  process.stderr.write(`bench files: ${name}\n`);
  const passes = Math.max(1, Math.round(bytes / memoryPassBytes));
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    for (let pass = 0; pass < passes; pass++) run(pass);
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return { name, mbPerSecond: (passes * memoryPassBytes) / 1e6 / best, note };
}

/** Times AES-GCM of the aes-gcm-* schemes (8 zero bytes of AAD) over memory in 1 MiB updates. */
function memoryGcmRows(algorithm: "aes-128-gcm" | "aes-256-gcm", label: string): Row[] {
  const key = randomBytes(algorithm === "aes-128-gcm" ? 16 : 32);
  const iv = randomBytes(12);
  const aad = Buffer.alloc(8);
  const plaintext = randomBytes(memoryPassBytes);
  const encryptPass = (keep: Buffer[] | undefined) => {
    const cipher = createCipheriv(algorithm, key, iv);
    cipher.setAAD(aad);
    for (let offset = 0; offset < plaintext.length; offset += mebibyte) {
      const chunk = cipher.update(plaintext.subarray(offset, offset + mebibyte));
      keep?.push(chunk);
    }
    cipher.final();
    return cipher.getAuthTag();
  };
  // The ciphertext for the decrypt row is made once, outside the timing. The timed passes
  // drop each chunk, as the file path does once it is written, instead of keeping 64 MiB.
  const ciphertext: Buffer[] = [];
  const tag = encryptPass(ciphertext);
  const note = "one AES-GCM stream in 1 MiB `update` calls, no disk";
  const encrypt = timedInMemory(`${label} encrypt, in memory`, memoryBytes, note, () => {
    encryptPass(undefined);
  });
  const decrypt = timedInMemory(
    `${label} decrypt, in memory`,
    memoryBytes,
    `${note}, tag checked`,
    () => {
      const decipher = createDecipheriv(algorithm, key, iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      for (const chunk of ciphertext) decipher.update(chunk);
      decipher.final();
    },
  );
  return [encrypt, decrypt];
}

/** Times the per-node work of teaclave-file-128: AES-128-GCM of 4 KiB nodes, a fresh key each. */
function memoryProtectedRows(): Row[] {
  const nodes = memoryPassBytes / nodeSize;
  const plaintext = randomBytes(memoryPassBytes);
  const keys = Buffer.alloc(16 * nodes);
  const sealed: { ciphertext: Buffer; gmac: Buffer }[] = [];
  const note = "sealNode / openNode per 4 KiB node, fresh key each; no MHT, metadata or disk";
  const encrypt = timedInMemory("teaclave-file-128 encrypt, in memory", memoryBytes, note, () => {
    randomFillSync(keys);
    sealed.length = 0;
    for (let i = 0; i < nodes; i++) {
      const node = plaintext.subarray(i * nodeSize, (i + 1) * nodeSize);
      sealed.push(sealNode(keys.subarray(i * 16, i * 16 + 16), node));
    }
  });
  const decrypt = timedInMemory("teaclave-file-128 decrypt, in memory", memoryBytes, note, () => {
    for (let i = 0; i < nodes; i++) {
      openNode(keys.subarray(i * 16, i * 16 + 16), sealed[i]!.gmac, sealed[i]!.ciphertext);
    }
  });
  return [encrypt, decrypt];
}

/** Times the per-chunk work of the staged format: AES-256-GCM of 64 KiB chunks, nonce = index. */
function memoryStagedRows(): Row[] {
  const key = randomBytes(32);
  const chunks = memoryPassBytes / stagedChunkSize;
  const plaintext = randomBytes(memoryPassBytes);
  const sealed: { ciphertext: Buffer; tag: Buffer }[] = [];
  const nonceFor = (index: number) => {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(BigInt(index), 0);
    return nonce;
  };
  const note = "AES-256-GCM per 64 KiB chunk as the format does it, no disk";
  const encrypt = timedInMemory("staged format write, in memory", memoryBytes, note, () => {
    sealed.length = 0;
    for (let i = 0; i < chunks; i++) {
      const cipher = createCipheriv("aes-256-gcm", key, nonceFor(i));
      const chunk = plaintext.subarray(i * stagedChunkSize, (i + 1) * stagedChunkSize);
      const ciphertext = cipher.update(chunk);
      cipher.final();
      sealed.push({ ciphertext, tag: cipher.getAuthTag() });
    }
  });
  const decrypt = timedInMemory("staged format read, in memory", memoryBytes, note, () => {
    for (let i = 0; i < chunks; i++) {
      const decipher = createDecipheriv("aes-256-gcm", key, nonceFor(i));
      decipher.setAuthTag(sealed[i]!.tag);
      decipher.update(sealed[i]!.ciphertext);
      decipher.final();
    }
  });
  return [encrypt, decrypt];
}

/** Runs `openssl speed` on one core for 16 KiB blocks; returns MB/s or undefined. */
function opensslSpeed(algorithm: "aes-128-gcm" | "aes-256-gcm"): number | undefined {
  process.stderr.write(`bench files: openssl speed -evp ${algorithm}\n`);
  const result = spawnSync(
    "openssl",
    ["speed", "-evp", algorithm, "-bytes", "16384", "-seconds", "3"],
    {
      encoding: "utf8",
    },
  );
  if (result.error !== undefined || result.status !== 0) return undefined;
  // The last line reads like "AES-128-GCM   5623456.12k": thousands of bytes per second.
  const match = /([\d.]+)k\s*$/.exec(result.stdout.trim());
  return match === null ? undefined : (Number(match[1]) * 1000) / 1e6;
}

/** Times encryptFile and decryptFile between plaintext and ciphertext files. */
async function fileRows(
  crypto: FileCrypto,
  label: string,
  plain: string,
  bytes: number,
): Promise<Row[]> {
  const encrypted = join(directory, `bench-${label}.enc`);
  const decrypted = join(directory, `bench-${label}.out`);
  const encrypt = await timed(
    `${label} encrypt, file to file`,
    bytes,
    "`encryptFile`: read, encrypt, write a new file",
    () => encryptFile(plain, encrypted, crypto),
    () => rm(encrypted, { force: true }),
  );
  const decrypt = await timed(
    `${label} decrypt, file to file`,
    bytes,
    "`decryptFile`: read, check every tag, write a new file",
    () => decryptFile(encrypted, decrypted, crypto),
    () => rm(decrypted, { force: true }),
  );
  await rm(encrypted);
  await rm(decrypted);
  return [encrypt, decrypt];
}

/** Times a copy without crypto, in the same 1 MiB reads: the I/O ceiling of file-to-file rows. */
async function copyRow(plain: string, bytes: number): Promise<Row> {
  const copy = join(directory, "bench.copy");
  const row = await timed(
    "plain copy, file to file",
    bytes,
    "no crypto: 1 MiB reads and writes to a new file, the ceiling of every file-to-file row",
    async () => {
      const source = await open(plain, "r");
      const target = await open(copy, "wx");
      try {
        for await (const chunk of readFileRange(source, 0, bytes, { reuseBuffers: true })) {
          await target.write(chunk);
        }
      } finally {
        await source.close();
        await target.close();
      }
    },
    () => rm(copy, { force: true }),
  );
  await rm(copy);
  return row;
}

async function stagedRows(plain: string, bytes: number): Promise<Row[]> {
  const key = randomBytes(32);
  const path = join(directory, "bench.staged");
  const copy = join(directory, "bench.staged.out");
  const write = await timed(
    "staged format write, file to file",
    bytes,
    "`StagedFileWriter` fed 1 MiB reads of the plaintext file",
    async () => {
      const writer = await StagedFileWriter.create(path, key);
      const handle = await open(plain, "r");
      try {
        for await (const chunk of readFileRange(handle, 0, bytes, { reuseBuffers: true })) {
          await writer.write(chunk);
        }
      } finally {
        await handle.close();
      }
      await writer.close();
    },
    () => rm(path, { force: true }),
  );
  const read = await timed(
    "staged format read, file to file",
    bytes,
    "`readStagedFile`, every chunk checked, each 64 KiB chunk written to a new file",
    async () => {
      const handle = await open(copy, "wx");
      try {
        for await (const chunk of readStagedFile(path, key)) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    },
    () => rm(copy, { force: true }),
  );
  await rm(path);
  await rm(copy);
  return [write, read];
}

/** Streams a large teaclave-file-128 input through prepareTaskFiles, a copying function and publish. */
async function pipelineRun(
  bytes: number,
): Promise<{ seconds: number; phases: number[]; peakRssMiB: number; baseRssMiB: number }> {
  const inputCrypto = generateFileCrypto("teaclave-file-128");
  const outputCrypto = generateFileCrypto("aes-gcm-256");
  const inputPath = join(directory, "pipeline-input.enc");
  const outputPath = join(directory, "pipeline-output.enc");
  process.stderr.write(`bench files: preparing a ${bytes / mebibyte} MiB pipeline input\n`);
  const cmac = await fileSchemeFor(inputCrypto).encrypt(
    pattern(bytes),
    inputPath,
    "pipeline-input.enc",
  );
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  process.stderr.write("bench files: pipeline run\n");
  const started = performance.now();
  const files = await prepareTaskFiles(
    {
      inputs: { data: { url: pathToFileURL(inputPath).href, cmac, crypto: inputCrypto } },
      outputs: { copy: { url: pathToFileURL(outputPath).href, crypto: outputCrypto } },
    },
    {
      workDirectory: join(directory, "work"),
      fusionBaseDirectory: join(directory, "fusion"),
      maxOutputBytes: 2 * bytes,
      localPaths: { roots: [directory], forbidden: [] },
    },
  );
  const prepared = performance.now();
  let ran = prepared;
  try {
    const input = await files.runtime.openInput("data");
    const output = await files.runtime.createOutput("copy");
    for await (const chunk of input.stream()) await output.write(chunk);
    await output.close();
    ran = performance.now();
    await files.publish();
  } finally {
    await files.dispose();
  }
  const finished = performance.now();
  const seconds = (finished - started) / 1000;
  clearInterval(sampler);
  if ((await stat(outputPath)).size !== bytes + 16)
    throw new Error("pipeline output has the wrong size");
  await rm(inputPath);
  await rm(outputPath);
  return {
    seconds,
    phases: [prepared - started, ran - prepared, finished - ran].map((ms) => ms / 1000),
    peakRssMiB: peakRss / mebibyte,
    baseRssMiB: baseRss / mebibyte,
  };
}

const loadText = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(" / ");

try {
  const bytes = fileMebibytes * mebibyte;
  const loadAtStart = loadText();
  const plain = join(directory, "plain.bin");
  const handle = await open(plain, "wx");
  for await (const chunk of pattern(bytes)) await handle.write(chunk);
  await handle.close();

  // openssl runs just before the rows, so it meets about the same load.
  const openssl128 = opensslSpeed("aes-128-gcm");
  const openssl256 = opensslSpeed("aes-256-gcm");
  const rows: Row[] = [await copyRow(plain, bytes)];
  rows.push(...memoryGcmRows("aes-128-gcm", "aes-gcm-128"));
  rows.push(...(await fileRows(generateFileCrypto("aes-gcm-128"), "aes-gcm-128", plain, bytes)));
  rows.push(...memoryGcmRows("aes-256-gcm", "aes-gcm-256"));
  rows.push(...(await fileRows(generateFileCrypto("aes-gcm-256"), "aes-gcm-256", plain, bytes)));
  rows.push(...memoryProtectedRows());
  rows.push(
    ...(await fileRows(generateFileCrypto("teaclave-file-128"), "teaclave-file-128", plain, bytes)),
  );
  rows.push(...memoryStagedRows());
  rows.push(...(await stagedRows(plain, bytes)));
  await rm(plain);
  const loadAfterRows = loadText();
  const pipeline = await pipelineRun(pipelineMebibytes * mebibyte);

  const percentOf = (value: number, reference: number | undefined) =>
    reference === undefined ? "n/a" : `${Math.round((100 * value) / reference)}%`;
  const referenceFor = (name: string) =>
    name.includes("256") || name.startsWith("staged") ? openssl256 : openssl128;
  const lines = [
    "## File crypto",
    "",
    `Throughput on ${fileMebibytes} MiB (1 MB = 10^6 bytes), fastest of ${repetitions} runs, one Node.js thread for the crypto; ` +
      `file I/O runs on libuv's thread pool. Load average (1 / 5 / 15 min) ${loadAtStart} before the rows and ${loadAfterRows} after them, ` +
      `on ${cpus().length} cores shared with other work, so rows taken under load are low.`,
    "The share compares each row with `openssl speed` on one core for the same key size (the staged format uses AES-256-GCM).",
    "In-memory rows run the format's cipher calls over a buffer, without disk, MHT or metadata work. " +
      "File-to-file rows include reading the input from the page cache, every tag check and writing a new output file.",
    "",
    "| Operation | MB/s | Share of openssl one-core | Includes |",
    "| --- | ---: | ---: | --- |",
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.mbPerSecond.toFixed(0)} | ${percentOf(row.mbPerSecond, referenceFor(row.name))} | ${row.note} |`,
    ),
    openssl128 === undefined
      ? "| openssl speed | n/a | | `openssl` not found or failed |"
      : `| openssl speed -evp aes-128-gcm -bytes 16384 | ${openssl128.toFixed(0)} | 100% | one core, 16 KiB blocks, no disk |`,
    ...(openssl256 === undefined
      ? []
      : [
          `| openssl speed -evp aes-256-gcm -bytes 16384 | ${openssl256.toFixed(0)} | 100% | one core, 16 KiB blocks, no disk |`,
        ]),
    "",
    `Task-file pipeline, ${pipelineMebibytes} MiB teaclave-file-128 input copied by a streaming function to an aes-gcm-256 output (file URLs; download, verify, stage, run, encrypt, upload). ` +
      `It took ${pipeline.seconds.toFixed(1)} s (prepare ${pipeline.phases[0]!.toFixed(1)} s, function ${pipeline.phases[1]!.toFixed(1)} s, publish and dispose ${pipeline.phases[2]!.toFixed(1)} s), ${((pipelineMebibytes * mebibyte) / 1e6 / pipeline.seconds).toFixed(0)} MB/s end to end. ` +
      `Peak RSS was ${pipeline.peakRssMiB.toFixed(0)} MiB (${pipeline.baseRssMiB.toFixed(0)} MiB before the run, sampled every 20 ms).`,
    "",
    "Command: `npm run bench -- bench/files.bench.ts`",
    "",
  ];
  process.stdout.write(lines.join("\n"));
} finally {
  rmSync(directory, { recursive: true, force: true });
}
