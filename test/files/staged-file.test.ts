import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  StagedFileWriter,
  readStagedFile,
  stagedChunkSize,
  stagedFileSize,
} from "../../src/files/staged/staged-file.ts";
import { collect } from "./collect.ts";

const sealedChunk = stagedChunkSize + 16;
let directory: string;
let counter = 0;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-staged-"));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeStaged(data: Buffer, key: Buffer): Promise<string> {
  const path = join(directory, `staged-${counter++}`);
  const writer = await StagedFileWriter.create(path, key);
  for (let offset = 0, step = 777; offset < data.length; offset += step, step *= 3) {
    await writer.write(data.subarray(offset, offset + step));
  }
  await writer.close();
  return path;
}

// 40 chunks span three of the reader's 16-chunk blocks.
for (const size of [
  0,
  1,
  stagedChunkSize,
  stagedChunkSize + 1,
  3 * stagedChunkSize,
  1_000_000,
  40 * stagedChunkSize + 5,
]) {
  test(`staged round trip of ${size} bytes`, async () => {
    const key = randomBytes(32);
    const data = randomBytes(size);
    const path = await writeStaged(data, key);
    assert.equal(await stagedFileSize(path), size);
    const chunks: Buffer[] = [];
    for await (const chunk of readStagedFile(path, key)) chunks.push(chunk);
    assert.deepEqual(Buffer.concat(chunks), data);
    assert.ok(chunks.every((chunk) => chunk.length > 0 && chunk.length <= stagedChunkSize));
  });
}

test("staged round trip with whole-chunk writes", async () => {
  const key = randomBytes(32);
  const data = randomBytes(5 * stagedChunkSize + 3);
  const path = join(directory, `staged-${counter++}`);
  const writer = await StagedFileWriter.create(path, key);
  // One write of several chunks, then single chunks, then the rest: each path of `write`.
  await writer.write(data.subarray(0, 2 * stagedChunkSize));
  await writer.write(data.subarray(2 * stagedChunkSize, 3 * stagedChunkSize));
  await writer.write(data.subarray(3 * stagedChunkSize, 4 * stagedChunkSize));
  await writer.write(data.subarray(4 * stagedChunkSize));
  await writer.close();
  assert.equal(await stagedFileSize(path), data.length);
  assert.deepEqual(await collect(readStagedFile(path, key)), data);
});

test("staged file of exactly two chunks in one write", async () => {
  const key = randomBytes(32);
  const data = randomBytes(2 * stagedChunkSize);
  const path = join(directory, `staged-${counter++}`);
  const writer = await StagedFileWriter.create(path, key);
  await writer.write(data);
  await writer.close();
  // The last chunk is full and carries the final flag, so no empty chunk follows it.
  assert.equal((await readFile(path)).length, 2 * sealedChunk);
  assert.deepEqual(await collect(readStagedFile(path, key)), data);
});

test("staged chunk with a flipped byte is rejected", async () => {
  const key = randomBytes(32);
  const path = await writeStaged(randomBytes(3 * stagedChunkSize), key);
  const bytes = await readFile(path);
  bytes[sealedChunk + 5]! ^= 1;
  await writeFile(path, bytes);
  await assert.rejects(collect(readStagedFile(path, key)), { code: "INTEGRITY" });
});

test("staged chunks swapped are rejected", async () => {
  const key = randomBytes(32);
  const path = await writeStaged(randomBytes(3 * stagedChunkSize + 10), key);
  const bytes = await readFile(path);
  const first = Buffer.from(bytes.subarray(0, sealedChunk));
  bytes.copy(bytes, 0, sealedChunk, 2 * sealedChunk);
  first.copy(bytes, sealedChunk);
  await writeFile(path, bytes);
  await assert.rejects(collect(readStagedFile(path, key)), { code: "INTEGRITY" });
});

test("staged file cut at a chunk boundary is rejected", async () => {
  const key = randomBytes(32);
  const path = await writeStaged(randomBytes(3 * stagedChunkSize + 10), key);
  await truncate(path, 2 * sealedChunk);
  await assert.rejects(collect(readStagedFile(path, key)), { code: "INTEGRITY" });
});

test("staged file with a short tail is rejected", async () => {
  const key = randomBytes(32);
  const path = await writeStaged(randomBytes(2 * stagedChunkSize), key);
  await truncate(path, sealedChunk + 5);
  await assert.rejects(collect(readStagedFile(path, key)), { code: "INTEGRITY" });
  await assert.rejects(stagedFileSize(path), { code: "INTEGRITY" });
});

test("staged file under another key is rejected", async () => {
  const path = await writeStaged(randomBytes(100), randomBytes(32));
  await assert.rejects(collect(readStagedFile(path, randomBytes(32))), { code: "INTEGRITY" });
});

test("empty staged file without its final chunk is rejected", async () => {
  const key = randomBytes(32);
  const path = await writeStaged(Buffer.alloc(0), key);
  await truncate(path, 0);
  await assert.rejects(collect(readStagedFile(path, key)), { code: "INTEGRITY" });
});
