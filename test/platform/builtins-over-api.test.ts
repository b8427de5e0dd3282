import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { decryptLocalFile, newFileCrypto } from "../../src/demo/party.ts";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { startTestPlatform } from "../helpers/test-platform.ts";
import type { Session, TestPlatform } from "../helpers/test-platform.ts";

const zeroKey = { schema: "teaclave-file-128" as const, key: new Uint8Array(16) };

/**
 * Runs Teaclave's built-in functions through the public gRPC API over TLS, on Teaclave's own
 * encrypted fixture files (teaclave-file-128 with the zero key and their recorded cmacs).
 */
describe("built-in functions over the API", () => {
  let platform: TestPlatform;
  let owner: Session;
  let alice: Session;
  let bob: Session;
  let files: string;

  before(async () => {
    platform = await startTestPlatform({ executorWorkers: 2 });
    owner = await platform.createUser("owner", "FunctionOwner");
    alice = await platform.createUser("alice", "DataOwner", "a");
    bob = await platform.createUser("bob", "DataOwner", "b");
    files = await mkdtemp(join(tmpdir(), "cloister-builtins-"));
  });
  after(async () => {
    await platform.dispose();
    await rm(files, { recursive: true, force: true });
  });

  /** Copies an encrypted fixture under its own name (the name is bound inside the file). */
  async function fixtureInput(session: Session, fixture: string, cmacHex: string): Promise<string> {
    const path = join(files, basename(fixture));
    await copyFile(teaclaveFixture(fixture), path).catch(() => {});
    return session.frontend.registerInputFile(
      pathToFileURL(path).href,
      Buffer.from(cmacHex, "hex"),
      zeroKey,
    );
  }

  async function freshOutput(session: Session, name: string) {
    const crypto = newFileCrypto("aes-gcm-256");
    const path = join(files, `${session.id}-${name}-${Math.random().toString(36).slice(2)}.enc`);
    const id = await session.frontend.registerOutputFile(pathToFileURL(path).href, crypto);
    return { id, read: () => decryptLocalFile(crypto, path) };
  }

  function slots(names: string[]) {
    return names.map((name) => ({ name, description: "", optional: false }));
  }

  test("builtin-echo returns the message", async () => {
    const functionId = await owner.frontend.registerFunction({
      name: "builtin-echo",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
    });
    const taskId = await alice.frontend.createTask({
      functionId,
      arguments: { message: "Hello From Teaclave!" },
    });
    await alice.frontend.invokeTask(taskId);
    const outcome = await alice.frontend.waitForTask(taskId);
    assert.equal(outcome.returnValue, "Hello From Teaclave!");
  });

  test("builtin-ordered-set-intersect on the psi fixtures", async () => {
    const functionId = await owner.frontend.registerFunction({
      name: "builtin-ordered-set-intersect",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "order", defaultValue: "", allowOverwrite: true }],
      inputs: slots(["input_data1", "input_data2"]),
      outputs: slots(["output_result1", "output_result2"]),
    });
    const input1 = await fixtureInput(
      alice,
      "functions/ordered_set_intersect/psi0.txt.enc",
      "92f686d4ac2ba6b4ffd93bc7ac5dbf58",
    );
    const input2 = await fixtureInput(
      bob,
      "functions/ordered_set_intersect/psi1.txt.enc",
      "8b3104972a6f0de949315e0b45d5dd66",
    );
    const output1 = await freshOutput(alice, "psi");
    const output2 = await freshOutput(bob, "psi");
    const taskId = await alice.frontend.createTask({
      functionId,
      arguments: { order: "ascending" },
      inputsOwnership: { input_data1: ["alice"], input_data2: ["bob"] },
      outputsOwnership: { output_result1: ["alice"], output_result2: ["bob"] },
    });
    await alice.frontend.assignData(taskId, {
      inputs: { input_data1: input1 },
      outputs: { output_result1: output1.id },
    });
    await bob.frontend.assignData(taskId, {
      inputs: { input_data2: input2 },
      outputs: { output_result2: output2.id },
    });
    await alice.frontend.approveTask(taskId);
    await bob.frontend.approveTask(taskId);
    await alice.frontend.invokeTask(taskId);
    const outcome = await alice.frontend.waitForTask(taskId);
    assert.equal(outcome.returnValue, "3 common items");
    assert.equal(await output1.read(), "0101010");
    assert.equal(await output2.read(), "01101");
    const stored = await alice.frontend.rpc.getOutputFile({ dataId: output1.id });
    assert.deepEqual(Buffer.from(stored.cmac), Buffer.from(outcome.tags["output_result1"]!));
  });

  test("builtin-private-join-and-compute on the bank fixtures", async () => {
    const banks = [alice, bob, await platform.createUser("carol", "DataOwner", "c")];
    const cmacs = [
      "f6a4585a4903f8dea0ee90ac84a50dba",
      "ab6065314fcbacd6971ff55d3821b51e",
      "9d7dbe465806731a43008ab094c97688",
    ];
    const inputNames = ["input_data0", "input_data1", "input_data2"];
    const outputNames = ["output_data0", "output_data1", "output_data2"];
    const functionId = await owner.frontend.registerFunction({
      name: "builtin-private-join-and-compute",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "num_user", defaultValue: "", allowOverwrite: true }],
      inputs: slots(inputNames),
      outputs: slots(outputNames),
    });
    const inputs = await Promise.all(
      banks.map((bank, index) =>
        fixtureInput(
          bank,
          `functions/private_join_and_compute/three_party_data/bank_${"abc"[index]}.enc`,
          cmacs[index]!,
        ),
      ),
    );
    const outputs = await Promise.all(banks.map((bank) => freshOutput(bank, "pjc")));
    const taskId = await alice.frontend.createTask({
      functionId,
      arguments: { num_user: 3 },
      inputsOwnership: Object.fromEntries(
        banks.map((bank, index) => [inputNames[index]!, [bank.id]]),
      ),
      outputsOwnership: Object.fromEntries(
        banks.map((bank, index) => [outputNames[index]!, [bank.id]]),
      ),
    });
    for (const [index, bank] of banks.entries()) {
      await bank.frontend.assignData(taskId, {
        inputs: { [inputNames[index]!]: inputs[index]! },
        outputs: { [outputNames[index]!]: outputs[index]!.id },
      });
    }
    for (const bank of banks) await bank.frontend.approveTask(taskId);
    await alice.frontend.invokeTask(taskId);
    const outcome = await alice.frontend.waitForTask(taskId);
    assert.equal(outcome.returnValue, "3 users join the task in total.");
    for (const output of outputs) {
      const lines = (await output.read()).trim().split("\n").sort();
      assert.deepEqual(lines, ["c, 470000", "e, 5033000"]);
    }
  });

  test("builtin-ordered-set-join writes the joined CSV", async () => {
    const functionId = await owner.frontend.registerFunction({
      name: "builtin-ordered-set-join",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: ["left_column", "right_column", "ascending", "drop"].map((key) => ({
        key,
        defaultValue: "",
        allowOverwrite: true,
      })),
      inputs: slots(["input_data1", "input_data2"]),
      outputs: slots(["output_result"]),
    });
    const left = join(files, "join0.csv");
    const right = join(files, "join1.csv");
    await copyFile(teaclaveFixture("functions/ordered_set_join/join0.csv"), left);
    await copyFile(teaclaveFixture("functions/ordered_set_join/join1.csv"), right);
    const raw = { schema: "raw" as const };
    const input1 = await alice.frontend.registerInputFile(
      pathToFileURL(left).href,
      new Uint8Array(16),
      raw,
    );
    const input2 = await alice.frontend.registerInputFile(
      pathToFileURL(right).href,
      new Uint8Array(16),
      raw,
    );
    const output = await freshOutput(alice, "join");
    const taskId = await alice.frontend.createTask({
      functionId,
      arguments: { left_column: 0, right_column: 0, ascending: true, drop: true },
      inputsOwnership: { input_data1: ["alice"], input_data2: ["alice"] },
      outputsOwnership: { output_result: ["alice"] },
    });
    await alice.frontend.assignData(taskId, {
      inputs: { input_data1: input1, input_data2: input2 },
      outputs: { output_result: output.id },
    });
    await alice.frontend.invokeTask(taskId);
    assert.equal((await alice.frontend.waitForTask(taskId)).returnValue, "120 records");
    const expected = await readFile(teaclaveFixture("functions/gbdt_training/train.txt"), "utf8");
    assert.equal((await output.read()).trim(), expected.trim());
  });

  test("builtin-password-check with a data URL input", async () => {
    const functionId = await owner.frontend.registerFunction({
      name: "builtin-password-check",
      description: "",
      executorType: "builtin",
      public: true,
      inputs: slots(["password", "exposed_passwords"]),
    });
    const password = await alice.frontend.registerInputFile(
      "data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9",
      Buffer.from("e84748f7ad380e183062b9b4b3942b7d", "hex"),
      { schema: "aes-gcm-128", key: new Uint8Array(16), iv: new Uint8Array(12) },
    );
    const exposed = await fixtureInput(
      alice,
      "functions/password_check/exposed_passwords.txt.enc",
      "a31dd0b7de0b6cc7e0dec1dcf7a46479",
    );
    const taskId = await alice.frontend.createTask({
      functionId,
      inputsOwnership: { password: ["alice"], exposed_passwords: ["alice"] },
    });
    await alice.frontend.assignData(taskId, { inputs: { password, exposed_passwords: exposed } });
    await alice.frontend.invokeTask(taskId);
    assert.equal((await alice.frontend.waitForTask(taskId)).returnValue, "true");
  });

  test("builtin_online_decrypt decrypts both key sizes", async () => {
    const functionId = await owner.frontend.registerFunction({
      name: "builtin_online_decrypt",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: ["key", "nonce", "encrypted_data", "algorithm"].map((key) => ({
        key,
        defaultValue: "",
        allowOverwrite: true,
      })),
    });
    const cases = [
      [
        "aqUdgZ0lJnuz9yiPkoDxM6ZcTcVVpd4KKLqzbHD88Lg=",
        "CaZd8qSMMlBp8SjSXj2I4dQIuC9KkZ5DI/ATo1sWJw==",
        "aes256gcm",
      ],
      ["aqUdgZ0lJnuz9yiPkoDxMw==", "OqMscYqxk1CshHQZulTrrDlJjS/v6BE/clWJyTerUw==", "aes128gcm"],
    ];
    for (const [key, data, algorithm] of cases) {
      const taskId = await alice.frontend.createTask({
        functionId,
        arguments: { key, nonce: "AAECAwQFBgcICQoL", encrypted_data: data, algorithm },
      });
      await alice.frontend.invokeTask(taskId);
      assert.equal(
        (await alice.frontend.waitForTask(taskId)).returnValue,
        "Hello Teaclave!",
        algorithm,
      );
    }
  });

  test("builtin-rsa-sign signs with the fixture key", async () => {
    const functionId = await owner.frontend.registerFunction({
      name: "builtin-rsa-sign",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "data", defaultValue: "", allowOverwrite: true }],
      inputs: slots(["rsa_key"]),
    });
    const keyPath = join(files, "key.der");
    await copyFile(teaclaveFixture("functions/rsa_sign/key.der"), keyPath);
    const key = await alice.frontend.registerInputFile(
      pathToFileURL(keyPath).href,
      new Uint8Array(16),
      {
        schema: "raw",
      },
    );
    const taskId = await alice.frontend.createTask({
      functionId,
      arguments: { data: "test data" },
      inputsOwnership: { rsa_key: ["alice"] },
    });
    await alice.frontend.assignData(taskId, { inputs: { rsa_key: key } });
    await alice.frontend.invokeTask(taskId);
    const expected = (
      await readFile(teaclaveFixture("functions/rsa_sign/expected_rsasign.txt"), "utf8")
    ).replace(/\n/g, "");
    assert.equal((await alice.frontend.waitForTask(taskId)).returnValue, expected);
  });
});
