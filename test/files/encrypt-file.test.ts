import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  decryptFile,
  encryptFile,
  generateFileCrypto,
  parseFileCrypto,
} from "../../src/files/index.ts";
import { readChunkSize } from "../../src/files/file-chunks.ts";
import { teaclaveFixture } from "../helpers/fixtures.ts";

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-encrypt-file-"));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

test("encryptFile and decryptFile round trip", async () => {
  const plain = teaclaveFixture("functions/gbdt_training/train.txt");
  for (const schema of ["aes-gcm-128", "aes-gcm-256", "teaclave-file-128"] as const) {
    const crypto = generateFileCrypto(schema);
    const encrypted = join(directory, `round-trip-${schema}.enc`);
    const decrypted = join(directory, `round-trip-${schema}.txt`);
    const tag = await encryptFile(plain, encrypted, crypto);
    assert.equal(tag.length, 16);
    assert.deepEqual(await decryptFile(encrypted, decrypted, crypto), tag);
    assert.deepEqual(await readFile(decrypted), await readFile(plain));
  }
});

// The plaintext is read in chunks of readChunkSize through reused buffers, so sizes around
// a chunk boundary check that no chunk is overwritten before the scheme has consumed it.
for (const size of [
  0,
  1,
  readChunkSize - 1,
  readChunkSize,
  readChunkSize + 1,
  3 * readChunkSize + 7,
]) {
  test(`encryptFile round trip of ${size} bytes`, async () => {
    const plain = join(directory, `sized-${size}.bin`);
    const data = randomBytes(size);
    await writeFile(plain, data);
    for (const schema of ["aes-gcm-128", "aes-gcm-256", "teaclave-file-128"] as const) {
      const crypto = generateFileCrypto(schema);
      const encrypted = join(directory, `sized-${size}-${schema}.enc`);
      const decrypted = join(directory, `sized-${size}-${schema}.out`);
      const tag = await encryptFile(plain, encrypted, crypto);
      assert.deepEqual(await decryptFile(encrypted, decrypted, crypto), tag, schema);
      assert.deepEqual(await readFile(decrypted), data, schema);
    }
  });
}

test("decryptFile rejects a flipped byte in a later chunk", async () => {
  const plain = join(directory, "tamper.bin");
  await writeFile(plain, randomBytes(2 * readChunkSize + 100));
  for (const schema of ["aes-gcm-128", "aes-gcm-256", "teaclave-file-128"] as const) {
    const crypto = generateFileCrypto(schema);
    const encrypted = join(directory, `tamper-${schema}.enc`);
    await encryptFile(plain, encrypted, crypto);
    const bytes = await readFile(encrypted);
    bytes[readChunkSize + 4096 * 10 + 50]! ^= 1;
    await writeFile(encrypted, bytes);
    const subdirectory = await mkdtemp(join(directory, "tamper-"));
    await assert.rejects(decryptFile(encrypted, join(subdirectory, "out.bin"), crypto), {
      code: "INTEGRITY",
    });
    assert.deepEqual(await readdir(subdirectory), [], schema);
  }
});

test("encryptFile keeps an existing output", async () => {
  const output = join(directory, "existing.enc");
  await writeFile(output, "keep");
  const crypto = generateFileCrypto("teaclave-file-128");
  await assert.rejects(encryptFile(teaclaveFixture("fusion/input1.txt"), output, crypto), {
    code: "ALREADY_EXISTS",
  });
  assert.equal(await readFile(output, "utf8"), "keep");
});

test("decryptFile keeps an existing output", async () => {
  const output = join(directory, "existing.txt");
  await writeFile(output, "keep");
  const crypto = parseFileCrypto({ schema: "teaclave-file-128", key: Buffer.alloc(16) }, "input");
  await assert.rejects(
    decryptFile(teaclaveFixture("functions/gbdt_training/train.enc"), output, crypto),
    {
      code: "ALREADY_EXISTS",
    },
  );
  assert.equal(await readFile(output, "utf8"), "keep");
});

test("decryptFile leaves nothing on failure", async () => {
  const subdirectory = await mkdtemp(join(directory, "failure-"));
  const crypto = parseFileCrypto(
    { schema: "teaclave-file-128", key: Buffer.alloc(16, 1) },
    "input",
  );
  await assert.rejects(
    decryptFile(
      teaclaveFixture("functions/gbdt_training/train.enc"),
      join(subdirectory, "out.txt"),
      crypto,
    ),
    { code: "INTEGRITY" },
  );
  assert.deepEqual(await readdir(subdirectory), []);
});

test("encryptFile rejects raw", async () => {
  await assert.rejects(
    encryptFile(teaclaveFixture("fusion/input1.txt"), join(directory, "raw.out"), {
      schema: "raw",
    }),
    { code: "INVALID_ARGUMENT" },
  );
});
