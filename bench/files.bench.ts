// Measures file crypto throughput (AES-GCM-128/256, teaclave-file-128 and the staged-file
// format, file to file) next to `openssl speed` on one core, and streams a large input through
// the whole task-file pipeline while sampling RSS. Prints one Markdown section; progress goes
// to stderr. Sizes: CLOISTER_BENCH_FILE_MIB (default 256) and CLOISTER_BENCH_PIPELINE_MIB
// (default 1024).
import { spawnSync } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { generateFileCrypto, prepareTaskFiles } from "../src/files/index.ts";
import type { FileCrypto } from "../src/files/index.ts";
import { fileSchemeFor } from "../src/files/schemes/file-scheme.ts";
import { rawScheme } from "../src/files/schemes/raw-scheme.ts";
import { StagedFileWriter, readStagedFile } from "../src/files/staged/staged-file.ts";

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

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of chunks) total += chunk.length;
  return total;
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

/** AES-GCM over memory in 64 KiB updates: Node's crypto limit without any file I/O. */
function memoryGcm(algorithm: "aes-128-gcm" | "aes-256-gcm", bytes: number): Row {
  const key = randomBytes(algorithm === "aes-128-gcm" ? 16 : 32);
  const chunk = randomBytes(64 * 1024);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repetitions; i++) {
    const cipher = createCipheriv(algorithm, key, randomBytes(12));
    const started = performance.now();
    for (let done = 0; done < bytes; done += chunk.length) cipher.update(chunk);
    cipher.final();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return {
    name: `${algorithm} in memory, 64 KiB updates`,
    mbPerSecond: bytes / 1e6 / best,
    note: "node:crypto, no file I/O",
  };
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

async function schemeRows(
  crypto: FileCrypto,
  label: string,
  plain: string,
  bytes: number,
): Promise<Row[]> {
  const scheme = fileSchemeFor(crypto);
  const encrypted = join(directory, `bench-${label}.enc`);
  const encrypt = await timed(
    `${label} encrypt`,
    bytes,
    "file to file",
    () => scheme.encrypt(rawScheme.decrypt(plain, "plain"), encrypted, `bench-${label}.enc`),
    () => rm(encrypted, { force: true }),
  );
  const decrypt = await timed(`${label} decrypt`, bytes, "file to memory, every tag checked", () =>
    drain(scheme.decrypt(encrypted, `bench-${label}.enc`)),
  );
  await rm(encrypted);
  return [encrypt, decrypt];
}

async function stagedRows(plain: string, bytes: number): Promise<Row[]> {
  const key = randomBytes(32);
  const path = join(directory, "bench.staged");
  const write = await timed(
    "staged format write",
    bytes,
    "AES-256-GCM, 64 KiB chunks",
    async () => {
      const writer = await StagedFileWriter.create(path, key);
      for await (const chunk of rawScheme.decrypt(plain, "plain")) await writer.write(chunk);
      await writer.close();
    },
    () => rm(path, { force: true }),
  );
  const read = await timed("staged format read", bytes, "every chunk verified", () =>
    drain(readStagedFile(path, key)),
  );
  await rm(path);
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

try {
  const bytes = fileMebibytes * mebibyte;
  const plain = join(directory, "plain.bin");
  const handle = await open(plain, "wx");
  for await (const chunk of pattern(bytes)) await handle.write(chunk);
  await handle.close();

  const rows: Row[] = [memoryGcm("aes-128-gcm", bytes), memoryGcm("aes-256-gcm", bytes)];
  rows.push(...(await schemeRows(generateFileCrypto("aes-gcm-128"), "aes-gcm-128", plain, bytes)));
  rows.push(...(await schemeRows(generateFileCrypto("aes-gcm-256"), "aes-gcm-256", plain, bytes)));
  rows.push(
    ...(await schemeRows(
      generateFileCrypto("teaclave-file-128"),
      "teaclave-file-128",
      plain,
      bytes,
    )),
  );
  rows.push(...(await stagedRows(plain, bytes)));
  await rm(plain);
  const openssl128 = opensslSpeed("aes-128-gcm");
  const openssl256 = opensslSpeed("aes-256-gcm");
  const pipeline = await pipelineRun(pipelineMebibytes * mebibyte);

  const percentOf = (value: number, reference: number | undefined) =>
    reference === undefined ? "n/a" : `${Math.round((100 * value) / reference)}%`;
  const referenceFor = (name: string) =>
    name.includes("256") || name.startsWith("staged") ? openssl256 : openssl128;
  const lines = [
    "## File crypto",
    "",
    `Throughput on ${fileMebibytes} MiB (1 MB = 10^6 bytes), fastest of ${repetitions} runs, one Node.js thread; load average at the end ${loadavg()
      .map((value) => value.toFixed(1))
      .join(" / ")}.`,
    "teaclave-file-128 is compared with openssl's AES-128-GCM figure, the staged format with AES-256-GCM.",
    "",
    "| Operation | MB/s | Share of openssl one-core | Note |",
    "| --- | ---: | ---: | --- |",
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.mbPerSecond.toFixed(0)} | ${percentOf(row.mbPerSecond, referenceFor(row.name))} | ${row.note} |`,
    ),
    openssl128 === undefined
      ? "| openssl speed | n/a | | `openssl` not found or failed |"
      : `| openssl speed -evp aes-128-gcm -bytes 16384 | ${openssl128.toFixed(0)} | 100% | one core, 16 KiB blocks |`,
    ...(openssl256 === undefined
      ? []
      : [
          `| openssl speed -evp aes-256-gcm -bytes 16384 | ${openssl256.toFixed(0)} | 100% | one core, 16 KiB blocks |`,
        ]),
    "",
    `Task-file pipeline, ${pipelineMebibytes} MiB teaclave-file-128 input copied by a streaming function to an aes-gcm-256 output (file URLs; download, verify, stage, run, encrypt, upload): ` +
      `${pipeline.seconds.toFixed(1)} s (prepare ${pipeline.phases[0]!.toFixed(1)} s, function ${pipeline.phases[1]!.toFixed(1)} s, publish and dispose ${pipeline.phases[2]!.toFixed(1)} s), ${((pipelineMebibytes * mebibyte) / 1e6 / pipeline.seconds).toFixed(0)} MB/s end to end, ` +
      `peak RSS ${pipeline.peakRssMiB.toFixed(0)} MiB (${pipeline.baseRssMiB.toFixed(0)} MiB before the run, sampled every 20 ms).`,
    "",
    "Command: `npm run bench -- bench/files.bench.ts`",
    "",
  ];
  process.stdout.write(lines.join("\n"));
} finally {
  rmSync(directory, { recursive: true, force: true });
}
