import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile, truncate, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { aesCmac } from "../../src/files/protected-fs/aes-cmac.ts";
import {
  readProtectedFile,
  readProtectedFileTag,
} from "../../src/files/protected-fs/protected-file-reader.ts";
import { ProtectedFileWriter } from "../../src/files/protected-fs/protected-file-writer.ts";
import {
  dataNodePosition,
  mhtNodePosition,
  nodeSize,
} from "../../src/files/protected-fs/protected-fs-layout.ts";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { collect } from "./collect.ts";

const zeroKey = Buffer.alloc(16);

/** Every teaclave-file-128 fixture, its plaintext sibling and the cmac PROVENANCE lists. */
const fixtures = [
  [
    "functions/gbdt_training/train.enc",
    "functions/gbdt_training/train.txt",
    "860030495909b84864b991865e9ad94f",
  ],
  [
    "functions/ordered_set_intersect/psi0.txt.enc",
    "functions/ordered_set_intersect/psi0.txt",
    "92f686d4ac2ba6b4ffd93bc7ac5dbf58",
  ],
  [
    "functions/ordered_set_intersect/psi1.txt.enc",
    "functions/ordered_set_intersect/psi1.txt",
    "8b3104972a6f0de949315e0b45d5dd66",
  ],
  [
    "functions/password_check/exposed_passwords.txt.enc",
    "functions/password_check/exposed_passwords.txt",
    "a31dd0b7de0b6cc7e0dec1dcf7a46479",
  ],
  [
    "functions/private_join_and_compute/three_party_data/bank_a.enc",
    "functions/private_join_and_compute/three_party_data/bank_a.txt",
    "f6a4585a4903f8dea0ee90ac84a50dba",
  ],
  [
    "functions/private_join_and_compute/three_party_data/bank_b.enc",
    "functions/private_join_and_compute/three_party_data/bank_b.txt",
    "ab6065314fcbacd6971ff55d3821b51e",
  ],
  [
    "functions/private_join_and_compute/three_party_data/bank_c.enc",
    "functions/private_join_and_compute/three_party_data/bank_c.txt",
    "9d7dbe465806731a43008ab094c97688",
  ],
] as const;

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-pfs-"));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeProtected(
  name: string,
  data: Buffer,
  key = zeroKey,
): Promise<{ path: string; tag: Buffer }> {
  const path = join(directory, name);
  const writer = await ProtectedFileWriter.create(path, key, name);
  // Uneven chunk sizes cross the inline-data and node boundaries at varying offsets.
  for (let offset = 0, step = 1000; offset < data.length; offset += step, step = step * 2 + 1) {
    await writer.write(data.subarray(offset, offset + step));
  }
  return { path, tag: await writer.finish() };
}

async function assertIntegrityFailure(
  path: string,
  name = basename(path),
  key = zeroKey,
): Promise<void> {
  await assert.rejects(collect(readProtectedFile(path, key, name)), { code: "INTEGRITY" });
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset]! ^= 0x01;
  await writeFile(path, bytes);
}

test("aes-cmac matches RFC 4493 vectors", () => {
  const key = Buffer.from("2b7e151628aed2a6abf7158809cf4f3c", "hex");
  const message = Buffer.from(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    "hex",
  );
  assert.equal(aesCmac(key, Buffer.alloc(0)).toString("hex"), "bb1d6929e95937287fa37d129b756746");
  assert.equal(
    aesCmac(key, message.subarray(0, 16)).toString("hex"),
    "070a16b46b4d4144f79bdd9dd04a287c",
  );
  assert.equal(
    aesCmac(key, message.subarray(0, 40)).toString("hex"),
    "dfa66747de9ae63030ca32611497c827",
  );
  assert.equal(aesCmac(key, message).toString("hex"), "51f0bebf7e3b9d92fc49741779363cfe");
});

for (const [encrypted, plain, cmac] of fixtures) {
  test(`fixture ${basename(encrypted)} decrypts to its plaintext`, async () => {
    const path = teaclaveFixture(encrypted);
    const plaintext = await collect(readProtectedFile(path, zeroKey, basename(path)));
    assert.deepEqual(plaintext, await readFile(teaclaveFixture(plain)));
    assert.equal((await readProtectedFileTag(path)).toString("hex"), cmac);
  });
}

test("fixture with a wrong file name is rejected", async () => {
  await assertIntegrityFailure(teaclaveFixture(fixtures[0][0]), "renamed.enc");
});

test("fixture with a wrong key is rejected", async () => {
  await assertIntegrityFailure(teaclaveFixture(fixtures[0][0]), "train.enc", Buffer.alloc(16, 1));
});

for (const size of [0, 1, 3072, 3073, 4096 * 96 + 1, 3 * 1024 * 1024 + 7, 4096 * 96 * 33 + 5000]) {
  test(`round trip of ${size} bytes`, async () => {
    const key = randomBytes(16);
    const data = randomBytes(size);
    const { path, tag } = await writeProtected(`round-trip-${size}.enc`, data, key);
    assert.deepEqual(await collect(readProtectedFile(path, key, basename(path))), data);
    assert.deepEqual(await readProtectedFileTag(path), tag);
    assert.equal((await readFile(path)).length % nodeSize, 0);
  });
}

test("writer output has the fixture header layout", async () => {
  const { path, tag } = await writeProtected("header.enc", Buffer.from("Hello\nWorld"));
  const node = await readFile(path);
  const fixture = await readFile(teaclaveFixture(fixtures[0][0]));
  assert.equal(node.length, nodeSize);
  assert.deepEqual(node.subarray(0, 16), fixture.subarray(0, 16));
  assert.deepEqual(node.subarray(48, 80), fixture.subarray(48, 80));
  assert.deepEqual(node.subarray(80, 96), tag);
});

test("same plaintext encrypts to different cmacs", async () => {
  const data = Buffer.from("same bytes");
  const first = await writeProtected("same-1.enc", data);
  const second = await writeProtected("same-2.enc", data);
  assert.notDeepEqual(first.tag, second.tag);
});

test("writer does not overwrite an existing file", async () => {
  const path = join(directory, "existing.enc");
  await writeFile(path, "keep");
  await assert.rejects(ProtectedFileWriter.create(path, zeroKey, "existing.enc"), {
    code: "EEXIST",
  });
  assert.equal(await readFile(path, "utf8"), "keep");
});

const largeSize = 4096 * 200;

test("tampered metadata node is rejected", async () => {
  const { path } = await writeProtected("tamper-metadata.enc", randomBytes(largeSize));
  await flipByte(path, 300);
  await assertIntegrityFailure(path);
});

test("tampered metadata gmac is rejected", async () => {
  const { path } = await writeProtected("tamper-gmac.enc", randomBytes(100));
  await flipByte(path, 85);
  await assertIntegrityFailure(path);
});

test("tampered key id is rejected", async () => {
  const { path } = await writeProtected("tamper-key-id.enc", randomBytes(100));
  await flipByte(path, 20);
  await assertIntegrityFailure(path);
});

test("tampered root MHT node is rejected", async () => {
  const { path } = await writeProtected("tamper-root-mht.enc", randomBytes(largeSize));
  await flipByte(path, mhtNodePosition(0) * nodeSize + 10);
  await assertIntegrityFailure(path);
});

test("tampered child MHT node is rejected", async () => {
  const { path } = await writeProtected("tamper-child-mht.enc", randomBytes(largeSize));
  await flipByte(path, mhtNodePosition(1) * nodeSize + 4000);
  await assertIntegrityFailure(path);
});

test("tampered data node is rejected", async () => {
  const { path } = await writeProtected("tamper-data.enc", randomBytes(largeSize));
  await flipByte(path, dataNodePosition(150) * nodeSize + 1);
  await assertIntegrityFailure(path);
});

test("reordered data nodes are rejected", async () => {
  const { path } = await writeProtected("reorder.enc", randomBytes(largeSize));
  const bytes = await readFile(path);
  const first = dataNodePosition(3) * nodeSize;
  const second = dataNodePosition(4) * nodeSize;
  const saved = Buffer.from(bytes.subarray(first, first + nodeSize));
  bytes.copy(bytes, first, second, second + nodeSize);
  saved.copy(bytes, second);
  await writeFile(path, bytes);
  await assertIntegrityFailure(path);
});

test("truncated file is rejected", async () => {
  const { path } = await writeProtected("truncate-node.enc", randomBytes(largeSize));
  const length = (await readFile(path)).length;
  await truncate(path, length - nodeSize);
  await assertIntegrityFailure(path);
  await truncate(path, length - nodeSize - 100);
  await assertIntegrityFailure(path);
});

test("file with an extra node is rejected", async () => {
  const { path } = await writeProtected("extra-node.enc", randomBytes(5000));
  await appendFile(path, Buffer.alloc(nodeSize));
  await assertIntegrityFailure(path);
});

test("non-protected file is rejected", async () => {
  const path = join(directory, "plain.enc");
  await writeFile(path, Buffer.alloc(nodeSize, 7));
  await assertIntegrityFailure(path);
  await assert.rejects(readProtectedFileTag(path), { code: "INTEGRITY" });
});
