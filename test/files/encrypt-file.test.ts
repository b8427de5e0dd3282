import assert from "node:assert/strict";
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
