import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { generateFileCrypto, parseFileCrypto, prepareTaskFiles } from "../../src/files/index.ts";
import type { FileCrypto, TaskFileOptions } from "../../src/files/index.ts";
import { fileSchemeFor } from "../../src/files/schemes/file-scheme.ts";
import { fixturesRoot, teaclaveFixture } from "../helpers/fixtures.ts";
import { collect } from "./collect.ts";
import { startLoopbackServer } from "./loopback-server.ts";
import type { LoopbackServer } from "./loopback-server.ts";

const zeroPfs = parseFileCrypto({ schema: "teaclave-file-128", key: Buffer.alloc(16) }, "input");
const trainGcm = parseFileCrypto(
  { schema: "aes-gcm-128", key: Buffer.alloc(16), iv: Buffer.alloc(12, 1) },
  "input",
);
const hex = (value: string) => Buffer.from(value, "hex");

let directory: string;
let served: string;
let uploaded: string;
let server: LoopbackServer;
let counter = 0;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-task-files-"));
  served = join(directory, "served");
  uploaded = join(directory, "uploaded");
  await mkdir(served);
  await mkdir(uploaded);
  await copyFile(
    teaclaveFixture("functions/gbdt_training/train.aes_gcm_128"),
    join(served, "train.aes_gcm_128"),
  );
  server = await startLoopbackServer({ serveDirectory: served, uploadDirectory: uploaded });
});

after(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

function options(overrides: Partial<TaskFileOptions> = {}): TaskFileOptions {
  const run = counter++;
  return {
    workDirectory: join(directory, `work-${run}`),
    fusionBaseDirectory: join(directory, "fusion"),
    maxOutputBytes: 64 * 1024 * 1024,
    localPaths: { roots: [directory, fixturesRoot], forbidden: [] },
    ...overrides,
  };
}

function outputPath(name: string): string {
  return join(directory, `${counter++}-${name}`);
}

async function decryptFile(path: string, crypto: FileCrypto, name: string): Promise<Buffer> {
  return collect(fileSchemeFor(crypto).decrypt(path, name));
}

test("pipeline runs fixtures through every scheme", async () => {
  const pfsOutput = join(uploaded, "result.enc");
  const gcmOutput = outputPath("result.aes_gcm");
  const fusionRun = `run-${counter++}`;
  const fusionUrl = `fusion:///TEACLAVE_FUSION_BASE/${fusionRun}/fused`;
  const gcmCrypto = generateFileCrypto("aes-gcm-256");
  const fusionCrypto = generateFileCrypto("teaclave-file-128");
  const userPfs = parseFileCrypto({ schema: "teaclave-file-128", key: randomBytes(16) }, "output");
  const runOptions = options();
  const files = await prepareTaskFiles(
    {
      inputs: {
        psi: {
          url: pathToFileURL(teaclaveFixture("functions/ordered_set_intersect/psi0.txt.enc")).href,
          cmac: hex("92f686d4ac2ba6b4ffd93bc7ac5dbf58"),
          crypto: zeroPfs,
        },
        train: {
          url: `${server.origin}/train.aes_gcm_128`,
          cmac: hex("592f1e607649d89ff2aa8a2841a57cad"),
          crypto: trainGcm,
        },
        password: {
          url: "data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9",
          cmac: hex("e84748f7ad380e183062b9b4b3942b7d"),
          crypto: parseFileCrypto(
            { schema: "aes-gcm-128", key: Buffer.alloc(16), iv: Buffer.alloc(12) },
            "input",
          ),
        },
        plain: {
          url: pathToFileURL(teaclaveFixture("functions/mesapy/input.txt")).href,
          cmac: Buffer.alloc(16),
          crypto: parseFileCrypto({ schema: "raw" }, "input"),
        },
      },
      outputs: {
        pfs: { url: `${server.origin}/result.enc`, crypto: userPfs },
        gcm: { url: pathToFileURL(gcmOutput).href, crypto: gcmCrypto },
        fused: { url: fusionUrl, crypto: fusionCrypto },
      },
    },
    runOptions,
  );
  try {
    const { runtime } = files;
    assert.deepEqual([...runtime.inputNames].sort(), ["password", "plain", "psi", "train"]);
    assert.deepEqual([...runtime.outputNames].sort(), ["fused", "gcm", "pfs"]);
    const psi = await runtime.openInput("psi");
    const psiPlain = await readFile(teaclaveFixture("functions/ordered_set_intersect/psi0.txt"));
    assert.equal(psi.size, psiPlain.length);
    assert.deepEqual(await psi.readAll(), psiPlain);
    const train = await runtime.openInput("train");
    assert.deepEqual(
      await collect(train.stream()),
      await readFile(teaclaveFixture("functions/gbdt_training/train.txt")),
    );
    assert.equal((await (await runtime.openInput("password")).readAll()).toString(), "password");
    assert.equal((await (await runtime.openInput("plain")).readAll()).toString(), "Hello\nWorld");

    const pfs = await runtime.createOutput("pfs");
    await pfs.write("first line\n");
    await pfs.write(Buffer.from("second line\n"));
    await pfs.close();
    const gcm = await runtime.createOutput("gcm");
    await gcm.write(psiPlain);
    await gcm.close();

    const tags = await files.publish();
    assert.deepEqual(Object.keys(tags).sort(), ["fused", "gcm", "pfs"]);

    const pfsBytes = await readFile(pfsOutput);
    assert.deepEqual(Buffer.from(tags["pfs"]!), pfsBytes.subarray(80, 96));
    assert.equal(
      (await decryptFile(pfsOutput, userPfs, "result.enc")).toString(),
      "first line\nsecond line\n",
    );
    await assert.rejects(decryptFile(pfsOutput, userPfs, "other.enc"), { code: "INTEGRITY" });

    const gcmBytes = await readFile(gcmOutput);
    assert.deepEqual(Buffer.from(tags["gcm"]!), gcmBytes.subarray(-16));
    assert.deepEqual(await decryptFile(gcmOutput, gcmCrypto, "x"), psiPlain);

    const fusedPath = join(runOptions.fusionBaseDirectory, fusionRun, "fused");
    assert.equal((await decryptFile(fusedPath, fusionCrypto, "fused")).length, 0);
    assert.equal(tags["fused"]!.length, 16);
    await assert.rejects(files.publish(), { code: "FAILED_PRECONDITION" });
  } finally {
    await files.dispose();
  }
  await assert.rejects(readdir(runOptions.workDirectory), { code: "ENOENT" });
});

test("cmac mismatch fails before staging", async () => {
  const runOptions = options();
  const wrong = hex("592f1e607649d89ff2aa8a2841a57cac");
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {
          training_data: {
            url: `${server.origin}/train.aes_gcm_128`,
            cmac: wrong,
            crypto: trainGcm,
          },
        },
        outputs: {},
      },
      runOptions,
    ),
    { code: "INTEGRITY", message: 'input "training_data" failed its integrity check' },
  );
  await assert.rejects(readdir(runOptions.workDirectory), { code: "ENOENT" });
});

test("teaclave-file-128 cmac mismatch is rejected", async () => {
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {
          data: {
            url: pathToFileURL(teaclaveFixture("functions/gbdt_training/train.enc")).href,
            cmac: hex("881adca6000000000000000000000000"),
            crypto: zeroPfs,
          },
        },
        outputs: {},
      },
      options(),
    ),
    { code: "INTEGRITY", message: 'input "data" failed its integrity check' },
  );
});

test("tampered body with a valid cmac is rejected", async () => {
  const bytes = await readFile(teaclaveFixture("functions/gbdt_training/train.aes_gcm_128"));
  bytes[10]! ^= 1;
  const path = outputPath("train.aes_gcm_128");
  await writeFile(path, bytes);
  const runOptions = options();
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {
          data: { url: pathToFileURL(path).href, cmac: bytes.subarray(-16), crypto: trainGcm },
        },
        outputs: {},
      },
      runOptions,
    ),
    { code: "INTEGRITY", message: 'input "data" failed its integrity check' },
  );
  await assert.rejects(readdir(runOptions.workDirectory), { code: "ENOENT" });
});

test("renamed teaclave-file-128 input is rejected", async () => {
  const path = outputPath("renamed.enc");
  await copyFile(teaclaveFixture("functions/gbdt_training/train.enc"), path);
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {
          data: {
            url: pathToFileURL(path).href,
            cmac: hex("860030495909b84864b991865e9ad94f"),
            crypto: zeroPfs,
          },
        },
        outputs: {},
      },
      options(),
    ),
    { code: "INTEGRITY" },
  );
});

test("missing input file fails with NOT_FOUND", async () => {
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {
          data: {
            url: pathToFileURL(outputPath("missing")).href,
            cmac: Buffer.alloc(16),
            crypto: zeroPfs,
          },
        },
        outputs: {},
      },
      options(),
    ),
    { code: "NOT_FOUND" },
  );
});

test("raw output is rejected", async () => {
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {},
        outputs: { out: { url: pathToFileURL(outputPath("raw")).href, crypto: { schema: "raw" } } },
      },
      options(),
    ),
    { code: "INVALID_ARGUMENT", message: /raw for output "out"/ },
  );
});

test("runtime enforces slots and output limit", async () => {
  const files = await prepareTaskFiles(
    {
      inputs: {},
      outputs: {
        out: {
          url: pathToFileURL(outputPath("limited")).href,
          crypto: generateFileCrypto("aes-gcm-128"),
        },
      },
    },
    options({ maxOutputBytes: 10 }),
  );
  try {
    await assert.rejects(files.runtime.openInput("missing"), { code: "NOT_FOUND" });
    await assert.rejects(files.runtime.createOutput("missing"), { code: "NOT_FOUND" });
    const output = await files.runtime.createOutput("out");
    await assert.rejects(files.runtime.createOutput("out"), { code: "FAILED_PRECONDITION" });
    await output.write("0123456789");
    await assert.rejects(output.write("x"), {
      code: "RESOURCE_EXHAUSTED",
      message: /"out" exceeds its limit of 10 bytes/,
    });
    await output.close();
    await assert.rejects(output.write(""), { code: "FAILED_PRECONDITION" });
  } finally {
    await files.dispose();
  }
});

test("publish never overwrites a local output", async () => {
  const existing = outputPath("existing");
  await writeFile(existing, "keep");
  const files = await prepareTaskFiles(
    {
      inputs: {},
      outputs: {
        out: { url: pathToFileURL(existing).href, crypto: generateFileCrypto("aes-gcm-128") },
      },
    },
    options(),
  );
  try {
    await assert.rejects(files.publish(), { code: "ALREADY_EXISTS" });
    assert.equal(await readFile(existing, "utf8"), "keep");
  } finally {
    await files.dispose();
  }
});

test("unawaited writes keep their order", async () => {
  const path = outputPath("ordered");
  const crypto = generateFileCrypto("aes-gcm-256");
  const files = await prepareTaskFiles(
    { inputs: {}, outputs: { out: { url: pathToFileURL(path).href, crypto } } },
    options(),
  );
  try {
    const output = await files.runtime.createOutput("out");
    const block = Buffer.alloc(50_000);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      block.fill(i);
      writes.push(output.write(block));
    }
    await Promise.all(writes);
    await files.publish();
  } finally {
    await files.dispose();
  }
  const plaintext = await decryptFile(path, crypto, "ordered");
  assert.equal(plaintext.length, 20 * 50_000);
  for (let i = 0; i < 20; i++) assert.equal(plaintext[i * 50_000], i);
});

test("large file streams in small chunks", async () => {
  // 24 MiB through download, verification, staging, the function, encryption and upload.
  const size = 24 * 1024 * 1024 + 123;
  const plaintext = randomBytes(size);
  const inputKey = parseFileCrypto({ schema: "teaclave-file-128", key: randomBytes(16) }, "input");
  const inputPath = join(served, "large.enc");
  async function* chunks() {
    for (let offset = 0; offset < size; offset += 1024 * 1024)
      yield plaintext.subarray(offset, offset + 1024 * 1024);
  }
  const cmac = await fileSchemeFor(inputKey).encrypt(chunks(), inputPath, "large.enc");
  const outputCrypto = generateFileCrypto("teaclave-file-128");
  const files = await prepareTaskFiles(
    {
      inputs: { large: { url: `${server.origin}/large.enc`, cmac, crypto: inputKey } },
      outputs: { copy: { url: `${server.origin}/large-copy.enc`, crypto: outputCrypto } },
    },
    options(),
  );
  let largestChunk = 0;
  let chunkCount = 0;
  try {
    const input = await files.runtime.openInput("large");
    assert.equal(input.size, size);
    const output = await files.runtime.createOutput("copy");
    for await (const chunk of input.stream()) {
      largestChunk = Math.max(largestChunk, chunk.length);
      chunkCount++;
      await output.write(chunk);
    }
    await output.close();
    await files.publish();
  } finally {
    await files.dispose();
  }
  assert.ok(largestChunk <= 64 * 1024, `largest chunk ${largestChunk} bytes`);
  assert.ok(chunkCount >= size / (64 * 1024));
  const copy = await decryptFile(join(uploaded, "large-copy.enc"), outputCrypto, "large-copy.enc");
  assert.ok(copy.equals(plaintext));
});

test("aborted signal stops preparation", async () => {
  const controller = new AbortController();
  controller.abort();
  const runOptions = options({ signal: controller.signal });
  await assert.rejects(
    prepareTaskFiles(
      {
        inputs: {
          data: {
            url: `${server.origin}/train.aes_gcm_128`,
            cmac: hex("592f1e607649d89ff2aa8a2841a57cad"),
            crypto: trainGcm,
          },
        },
        outputs: {},
      },
      runOptions,
    ),
    { name: "AbortError" },
  );
  await assert.rejects(readdir(runOptions.workDirectory), { code: "ENOENT" });
});
