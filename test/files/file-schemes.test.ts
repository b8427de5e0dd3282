import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseFileCrypto } from "../../src/files/file-crypto.ts";
import { fileSchemeFor } from "../../src/files/schemes/file-scheme.ts";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { collect } from "./collect.ts";

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-schemes-"));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function* chunksOf(data: Buffer, size = 1000): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size)
    yield data.subarray(offset, offset + size);
}

function aesGcm(schema: "aes-gcm-128" | "aes-gcm-256", key: string, iv: string) {
  return fileSchemeFor(
    parseFileCrypto({ schema, key: Buffer.from(key, "hex"), iv: Buffer.from(iv, "hex") }, "input"),
  );
}

test("aes-gcm-128 fixture decrypts to train.txt", async () => {
  const scheme = aesGcm("aes-gcm-128", "00".repeat(16), "01".repeat(12));
  const path = teaclaveFixture("functions/gbdt_training/train.aes_gcm_128");
  assert.equal((await scheme.readTag(path))?.toString("hex"), "592f1e607649d89ff2aa8a2841a57cad");
  const plaintext = await collect(scheme.decrypt(path, "train.aes_gcm_128"));
  assert.deepEqual(plaintext, await readFile(teaclaveFixture("functions/gbdt_training/train.txt")));
});

test("aes-gcm-128 fusion input1 gives its cmac", async () => {
  const scheme = aesGcm(
    "aes-gcm-128",
    "00000000000000000000000000000001",
    "123456781234567812345678",
  );
  const plaintext = await readFile(teaclaveFixture("fusion/input1.txt"));
  const path = join(directory, "input1.enc");
  const tag = await scheme.encrypt(chunksOf(plaintext, 7), path, "input1.enc");
  assert.equal(tag.toString("hex"), "e8afd048b339fc835733e16c761a301c");
  assert.deepEqual(await scheme.readTag(path), tag);
  assert.deepEqual(await collect(scheme.decrypt(path, "input1.enc")), plaintext);
});

test("aes-gcm-256 fusion input2 gives its cmac", async () => {
  const scheme = aesGcm("aes-gcm-256", "00".repeat(31) + "02", "012345670123456701234567");
  const plaintext = await readFile(teaclaveFixture("fusion/input2.txt"));
  const path = join(directory, "input2.enc");
  const tag = await scheme.encrypt(chunksOf(plaintext), path, "input2.enc");
  assert.equal(tag.toString("hex"), "75d7cf7a7843dee709e29ba0dcb865d2");
  assert.deepEqual(await collect(scheme.decrypt(path, "input2.enc")), plaintext);
});

test("aes-gcm-128 password data decrypts", async () => {
  const scheme = aesGcm("aes-gcm-128", "00".repeat(16), "00".repeat(12));
  const path = join(directory, "password.enc");
  await writeFile(path, Buffer.from("c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9", "base64"));
  assert.equal((await scheme.readTag(path))?.toString("hex"), "e84748f7ad380e183062b9b4b3942b7d");
  // The data URL contains 24 bytes, a 16-byte tag and 8 bytes of ciphertext, so the plaintext
  // is "password" without the newline that password.txt has.
  assert.equal((await collect(scheme.decrypt(path, "password.enc"))).toString(), "password");
});

test("aes-gcm round trip of several MiB", async () => {
  const scheme = aesGcm(
    "aes-gcm-256",
    randomBytes(32).toString("hex"),
    randomBytes(12).toString("hex"),
  );
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const path = join(directory, "large.enc");
  await scheme.encrypt(chunksOf(data, 100_000), path, "large.enc");
  assert.equal((await readFile(path)).length, data.length + 16);
  assert.deepEqual(await collect(scheme.decrypt(path, "large.enc")), data);
});

test("aes-gcm tampered byte is rejected", async () => {
  const scheme = aesGcm("aes-gcm-128", "00".repeat(16), "01".repeat(12));
  const bytes = await readFile(teaclaveFixture("functions/gbdt_training/train.aes_gcm_128"));
  bytes[100]! ^= 0x80;
  const path = join(directory, "tampered.aes_gcm_128");
  await writeFile(path, bytes);
  await assert.rejects(collect(scheme.decrypt(path, "tampered.aes_gcm_128")), {
    code: "INTEGRITY",
  });
});

test("aes-gcm truncated file is rejected", async () => {
  const scheme = aesGcm("aes-gcm-128", "00".repeat(16), "01".repeat(12));
  const bytes = await readFile(teaclaveFixture("functions/gbdt_training/train.aes_gcm_128"));
  const path = join(directory, "truncated.aes_gcm_128");
  await writeFile(path, bytes.subarray(0, 10));
  await assert.rejects(collect(scheme.decrypt(path, "truncated.aes_gcm_128")), {
    code: "INTEGRITY",
  });
  await assert.rejects(scheme.readTag(path), { code: "INTEGRITY" });
});

test("aes-gcm wrong key is rejected", async () => {
  const scheme = aesGcm("aes-gcm-128", "00".repeat(15) + "01", "01".repeat(12));
  const path = teaclaveFixture("functions/gbdt_training/train.aes_gcm_128");
  await assert.rejects(collect(scheme.decrypt(path, "train.aes_gcm_128")), { code: "INTEGRITY" });
});

test("raw scheme reads plaintext and rejects encryption", async () => {
  const scheme = fileSchemeFor(parseFileCrypto({ schema: "raw" }, "input"));
  const path = teaclaveFixture("functions/mesapy/input.txt");
  assert.equal(await scheme.readTag(path), undefined);
  assert.equal((await collect(scheme.decrypt(path, "input.txt"))).toString(), "Hello\nWorld");
  await assert.rejects(
    scheme.encrypt(chunksOf(Buffer.from("x")), join(directory, "raw.out"), "raw.out"),
    {
      code: "INVALID_ARGUMENT",
    },
  );
});

test("teaclave-file-128 scheme round trip", async () => {
  const key = randomBytes(16);
  const scheme = fileSchemeFor(parseFileCrypto({ schema: "teaclave-file-128", key }, "output"));
  const data = randomBytes(20_000);
  const path = join(directory, "scheme.enc");
  const tag = await scheme.encrypt(chunksOf(data), path, "scheme.enc");
  assert.deepEqual(await scheme.readTag(path), tag);
  assert.deepEqual(await collect(scheme.decrypt(path, "scheme.enc")), data);
});

test("encrypt removes the partial file on a source error", async () => {
  const path = join(directory, "failing.enc");
  async function* failing(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(10_000);
    throw new Error("source failed");
  }
  for (const crypto of [
    parseFileCrypto({ schema: "teaclave-file-128", key: Buffer.alloc(16) }, "output"),
    parseFileCrypto(
      { schema: "aes-gcm-128", key: Buffer.alloc(16), iv: Buffer.alloc(12) },
      "output",
    ),
  ]) {
    await assert.rejects(
      fileSchemeFor(crypto).encrypt(failing(), path, "failing.enc"),
      /source failed/,
    );
    await assert.rejects(readFile(path), { code: "ENOENT" });
  }
});

test("aes-gcm round trip of tiny chunks", async () => {
  const scheme = aesGcm(
    "aes-gcm-128",
    randomBytes(16).toString("hex"),
    randomBytes(12).toString("hex"),
  );
  // 20000 chunks of 100 bytes make write batches of more buffers than one writev takes.
  const data = randomBytes(2_000_000);
  const path = join(directory, "tiny-chunks.enc");
  await scheme.encrypt(chunksOf(data, 100), path, "tiny-chunks.enc");
  assert.deepEqual(await collect(scheme.decrypt(path, "tiny-chunks.enc")), data);
});
