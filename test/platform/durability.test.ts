import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TaskStatus } from "../../src/gen/teaclave_common_pb.ts";
import { freePort, startServeProcess } from "../helpers/serve-process.ts";

describe("durability across a hard stop", () => {
  let dataDirectory: string;
  before(async () => {
    dataDirectory = await mkdtemp(join(tmpdir(), "cloister-durable-"));
  });
  after(() => rm(dataDirectory, { recursive: true, force: true }));

  test("state and tokens survive SIGKILL and the work carries on", async () => {
    const ports = { authenticationPort: await freePort(), frontendPort: await freePort() };
    const first = await startServeProcess({ dataDirectory, ...ports });
    const admin = await first.connect("admin", "teaclave");
    await admin.authentication.registerUser("owner", "owner-pw", "FunctionOwner");
    await admin.authentication.registerUser("alice", "alice-pw", "DataOwner", "a");
    await admin.authentication.registerUser("bob", "bob-pw", "DataOwner", "b");
    const owner = await first.connect("owner", "owner-pw");
    const alice = await first.connect("alice", "alice-pw");
    const bob = await first.connect("bob", "bob-pw");
    const aliceToken = await alice.authentication.rpc.userLogin({
      id: "alice",
      password: "alice-pw",
    });

    const echo = await owner.frontend.registerFunction({
      name: "builtin-echo",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
    });
    const finished = await alice.frontend.createTask({
      functionId: echo,
      arguments: { message: "before" },
    });
    await alice.frontend.invokeTask(finished);
    assert.equal((await alice.frontend.waitForTask(finished)).returnValue, "before");

    const intersect = await owner.frontend.registerFunction({
      name: "builtin-password-check",
      description: "",
      executorType: "builtin",
      public: true,
      inputs: [
        { name: "password", description: "", optional: false },
        { name: "exposed_passwords", description: "", optional: false },
      ],
    });
    const crypto = {
      schema: "aes-gcm-128" as const,
      key: new Uint8Array(16),
      iv: new Uint8Array(12),
    };
    const pending = await alice.frontend.createTask({
      functionId: intersect,
      inputsOwnership: { password: ["alice"], exposed_passwords: ["bob"] },
    });
    const password = await alice.frontend.registerInputFile(
      "data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9",
      Buffer.from("e84748f7ad380e183062b9b4b3942b7d", "hex"),
      crypto,
    );
    await alice.frontend.assignData(pending, { inputs: { password } });

    const loop = await owner.frontend.registerFunction({
      name: "endless-loop",
      description: "never returns",
      executorType: "javascript",
      public: true,
      payload: Buffer.from("function entrypoint(argv) { for (;;) {} }"),
    });
    const running = await alice.frontend.createTask({ functionId: loop, executor: "javascript" });
    await alice.frontend.invokeTask(running);
    let tries = 0;
    while ((await alice.frontend.getTask(running)).status !== TaskStatus.Running) {
      assert.ok(++tries < 200, "the endless loop never started");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    assert.equal(await first.kill("SIGKILL"), null);

    const second = await startServeProcess({ dataDirectory, ...ports });
    try {
      // The token issued before the stop still works: the signing key persisted.
      const restored = await second.clients({ id: "alice", token: aliceToken.token });
      const done = await restored.frontend.getTask(finished);
      assert.equal(done.status, TaskStatus.Finished);
      // Its executor died with the first process, and no other can reach this scheduler, so
      // the task fails at the restart instead of after the 30 s heartbeat timeout.
      const lost = await restored.frontend.getTask(running);
      assert.equal(lost.status, TaskStatus.Failed);
      assert.equal(
        lost.result?.result.case === "Err" ? lost.result.result.value.reason : "",
        "Runtime Error: Executor Timeout",
      );
      const waiting = await restored.frontend.getTask(pending);
      assert.equal(waiting.status, TaskStatus.Created);
      assert.deepEqual(
        waiting.assignedInputs.map((map) => map.dataName),
        ["password"],
      );

      const bobAgain = await second.connect("bob", "bob-pw");
      const exposed = await bobAgain.frontend.registerInputFile(
        "data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9",
        Buffer.from("e84748f7ad380e183062b9b4b3942b7d", "hex"),
        crypto,
      );
      await bobAgain.frontend.assignData(pending, { inputs: { exposed_passwords: exposed } });
      await bobAgain.frontend.approveTask(pending);
      await restored.frontend.approveTask(pending);
      await restored.frontend.invokeTask(pending);
      // Both inputs hold the word "password", so the check finds it exposed.
      assert.equal((await restored.frontend.waitForTask(pending)).returnValue, "true");
      assert.ok(bob !== undefined);
    } finally {
      await second.kill("SIGTERM");
    }
  });
});
