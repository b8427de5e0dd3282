import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readChunkSize, readFileRange } from "../../src/files/file-chunks.ts";

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-file-chunks-"));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Reads `start..end` of `data` through a file and returns a copy of every chunk. */
async function readRange(
  data: Buffer,
  start: number,
  end: number,
  options: { chunkSize?: number; reuseBuffers?: boolean },
): Promise<Buffer[]> {
  const path = join(directory, `range-${randomBytes(4).toString("hex")}`);
  await writeFile(path, data);
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    // A reused buffer is valid only until the next step, so the copy is taken here.
    for await (const chunk of readFileRange(handle, start, end, options)) {
      chunks.push(Buffer.from(chunk));
    }
    return chunks;
  } finally {
    await handle.close();
  }
}

const chunkSize = 1000;
for (const reuseBuffers of [false, true]) {
  for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 7 * chunkSize + 5]) {
    test(`readFileRange of ${size} bytes, reuseBuffers ${reuseBuffers}`, async () => {
      const data = randomBytes(size);
      const chunks = await readRange(data, 0, size, { chunkSize, reuseBuffers });
      assert.deepEqual(Buffer.concat(chunks), data);
      assert.equal(chunks.length, Math.ceil(size / chunkSize));
      assert.ok(chunks.every((chunk) => chunk.length > 0 && chunk.length <= chunkSize));
    });
  }
}

test("readFileRange reads an inner range", async () => {
  const data = randomBytes(5 * chunkSize);
  const chunks = await readRange(data, 123, 4 * chunkSize + 7, { chunkSize, reuseBuffers: true });
  assert.deepEqual(Buffer.concat(chunks), data.subarray(123, 4 * chunkSize + 7));
});

test("readFileRange stops where the file ends", async () => {
  const data = randomBytes(3 * chunkSize + 10);
  for (const reuseBuffers of [false, true]) {
    const chunks = await readRange(data, 0, 10 * chunkSize, { chunkSize, reuseBuffers });
    assert.deepEqual(Buffer.concat(chunks), data);
  }
});

test("readFileRange fresh chunks stay intact", async () => {
  const data = randomBytes(6 * chunkSize);
  const path = join(directory, "fresh");
  await writeFile(path, data);
  const handle = await open(path, "r");
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of readFileRange(handle, 0, data.length, { chunkSize })) {
      chunks.push(chunk);
    }
  } finally {
    await handle.close();
  }
  assert.deepEqual(Buffer.concat(chunks), data);
});

test("readFileRange default chunk boundaries", async () => {
  const data = randomBytes(2 * readChunkSize + 1);
  for (const end of [readChunkSize - 1, readChunkSize, readChunkSize + 1, data.length]) {
    const chunks = await readRange(data, 0, end, { reuseBuffers: true });
    assert.deepEqual(Buffer.concat(chunks), data.subarray(0, end));
    assert.ok(chunks.every((chunk) => chunk.length <= readChunkSize));
  }
});
