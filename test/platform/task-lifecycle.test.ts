import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { Scheduler } from "../../src/gen/cloister/internal/v1/scheduler_pb.ts";
import { TaskStatus } from "../../src/gen/teaclave_common_pb.ts";
import { startTestPlatform } from "../helpers/test-platform.ts";
import type { Session, TestPlatform } from "../helpers/test-platform.ts";
import { rejectsWith } from "../helpers/rejects-with.ts";

async function waitForStatus(
  session: Session,
  taskId: string,
  status: TaskStatus,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await session.frontend.getTask(taskId);
    if (task.status === status) return task;
    if (Date.now() > deadline) {
      assert.fail(`task ${taskId} is ${TaskStatus[task.status]}, expected ${TaskStatus[status]}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const slot = (name: string) => ({ name, description: "", optional: false });
const aesCrypto = {
  schema: "aes-gcm-128" as const,
  key: new Uint8Array(16),
  iv: new Uint8Array(12),
};

describe("task state machine", () => {
  let platform: TestPlatform;
  let owner: Session;
  let alice: Session;
  let bob: Session;
  let echoId: string;
  let twoPartyId: string;
  let loopId: string;

  before(async () => {
    platform = await startTestPlatform({
      executorWorkers: 1,
      heartbeatIntervalMs: 200,
      executorTimeoutMs: 2_000,
    });
    owner = await platform.createUser("owner", "FunctionOwner");
    alice = await platform.createUser("alice", "DataOwner", "a");
    bob = await platform.createUser("bob", "DataOwner", "b");
    echoId = await owner.frontend.registerFunction({
      name: "builtin-echo",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
    });
    twoPartyId = await owner.frontend.registerFunction({
      name: "builtin-password-check",
      description: "",
      executorType: "builtin",
      public: true,
      inputs: [slot("password"), slot("exposed_passwords")],
    });
    loopId = await owner.frontend.registerFunction({
      name: "endless-loop",
      description: "never returns",
      executorType: "javascript",
      public: true,
      payload: Buffer.from("function entrypoint(argv) { for (;;) {} }"),
    });
  });
  after(() => platform.dispose());

  async function twoPartyTask() {
    const taskId = await alice.frontend.createTask({
      functionId: twoPartyId,
      inputsOwnership: { password: ["alice"], exposed_passwords: ["bob"] },
    });
    const password = await alice.frontend.registerInputFile(
      "file:///nonexistent/a",
      new Uint8Array(16),
      aesCrypto,
    );
    const exposed = await bob.frontend.registerInputFile(
      "file:///nonexistent/b",
      new Uint8Array(16),
      aesCrypto,
    );
    return { taskId, password, exposed };
  }

  test("moves through Created, DataAssigned, Approved and Staged", async () => {
    const { taskId, password, exposed } = await twoPartyTask();
    const created = await alice.frontend.getTask(taskId);
    assert.equal(created.status, TaskStatus.Created);
    assert.deepEqual(created.participants, ["alice", "bob"]);
    await rejectsWith(alice.frontend.approveTask(taskId), Code.FailedPrecondition, /assigned/);
    await alice.frontend.assignData(taskId, { inputs: { password } });
    assert.equal((await alice.frontend.getTask(taskId)).status, TaskStatus.Created);
    await rejectsWith(
      alice.frontend.assignData(taskId, { inputs: { exposed_passwords: exposed } }),
      Code.PermissionDenied,
    );
    await bob.frontend.assignData(taskId, { inputs: { exposed_passwords: exposed } });
    assert.equal((await alice.frontend.getTask(taskId)).status, TaskStatus.DataAssigned);
    await rejectsWith(
      bob.frontend.assignData(taskId, { inputs: { exposed_passwords: exposed } }),
      Code.FailedPrecondition,
    );
    await alice.frontend.approveTask(taskId);
    await rejectsWith(
      alice.frontend.invokeTask(taskId),
      Code.FailedPrecondition,
      /approval of \[bob\]/,
    );
    await bob.frontend.approveTask(taskId);
    const approved = await alice.frontend.getTask(taskId);
    assert.equal(approved.status, TaskStatus.Approved);
    assert.deepEqual(approved.approvedUsers, ["alice", "bob"]);
    await alice.frontend.invokeTask(taskId);
    await rejectsWith(alice.frontend.invokeTask(taskId), Code.FailedPrecondition, /only once/);
    // The inputs point at files that do not exist, so the run fails with a reason.
    const ended = await waitForStatus(alice, taskId, TaskStatus.Finished);
    assert.equal(ended.result?.result.case, "Err");
  });

  test("a task without slots runs on create and invoke alone", async () => {
    const taskId = await alice.frontend.createTask({
      functionId: echoId,
      arguments: { message: "hi" },
    });
    assert.equal((await alice.frontend.getTask(taskId)).status, TaskStatus.Created);
    await alice.frontend.invokeTask(taskId);
    assert.equal((await alice.frontend.waitForTask(taskId)).returnValue, "hi");
  });

  test("creation checks arguments, slots and executor", async () => {
    await rejectsWith(
      alice.frontend.createTask({ functionId: echoId, arguments: {} }),
      Code.InvalidArgument,
      /missing message/,
    );
    await rejectsWith(
      alice.frontend.createTask({ functionId: echoId, arguments: { message: "x", extra: 1 } }),
      Code.InvalidArgument,
      /not accepted: extra/,
    );
    await rejectsWith(
      alice.frontend.rpc.createTask({
        functionId: echoId,
        functionArguments: "{not json",
        executor: "builtin",
      }),
      Code.InvalidArgument,
      /not valid JSON/,
    );
    await rejectsWith(
      alice.frontend.createTask({
        functionId: twoPartyId,
        inputsOwnership: { password: ["alice"] },
      }),
      Code.InvalidArgument,
      /missing the required inputs \[exposed_passwords\]/,
    );
    await rejectsWith(
      alice.frontend.createTask({
        functionId: echoId,
        arguments: { message: "x" },
        executor: "mesapy",
      }),
      Code.InvalidArgument,
      /function not available/,
    );
  });

  test("cancel before staging ends the task at once", async () => {
    const taskId = await alice.frontend.createTask({
      functionId: echoId,
      arguments: { message: "x" },
    });
    await alice.frontend.cancelTask(taskId);
    const task = await alice.frontend.getTask(taskId);
    assert.equal(task.status, TaskStatus.Canceled);
    assert.equal(task.result?.result.case, "Err");
    await rejectsWith(
      alice.frontend.cancelTask(taskId),
      Code.FailedPrecondition,
      /already Canceled/,
    );
    await rejectsWith(alice.frontend.invokeTask(taskId), Code.FailedPrecondition);
  });

  test("cancel reaches a running task and the worker stays healthy", async () => {
    const taskId = await alice.frontend.createTask({ functionId: loopId, executor: "javascript" });
    await alice.frontend.invokeTask(taskId);
    await waitForStatus(alice, taskId, TaskStatus.Running);
    await alice.frontend.cancelTask(taskId);
    const task = await waitForStatus(alice, taskId, TaskStatus.Canceled);
    assert.equal(task.result?.result.case, "Err");
    const next = await alice.frontend.createTask({
      functionId: echoId,
      arguments: { message: "after" },
    });
    await alice.frontend.invokeTask(next);
    assert.equal((await alice.frontend.waitForTask(next)).returnValue, "after");
  });

  test("WaitTask returns at the task's end and caps open waits per user", async () => {
    const waiting = await alice.frontend.createTask({
      functionId: echoId,
      arguments: { message: "waited for" },
    });
    // A Created task never ends by itself, so these waits stay open until aborted.
    const abort = new AbortController();
    const open = Array.from({ length: 64 }, () =>
      alice.frontend.rpc
        .waitTask({ taskId: waiting, timeoutMs: 20_000 }, { signal: abort.signal })
        .catch(() => undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    await rejectsWith(
      alice.frontend.rpc.waitTask({ taskId: waiting, timeoutMs: 1_000 }),
      Code.ResourceExhausted,
      /64 WaitTask calls open/,
    );
    // Another user's waits are counted apart.
    const bobsTask = await bob.frontend.createTask({
      functionId: echoId,
      arguments: { message: "" },
    });
    assert.equal(
      (await bob.frontend.rpc.waitTask({ taskId: bobsTask, timeoutMs: 50 })).status,
      TaskStatus.Created,
    );

    abort.abort();
    await Promise.all(open);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Aborted calls free their places, and the task's end returns a wait before its timeout.
    const started = performance.now();
    const result = alice.frontend.rpc.waitTask({ taskId: waiting, timeoutMs: 20_000 });
    await alice.frontend.invokeTask(waiting);
    assert.equal((await result).status, TaskStatus.Finished);
    assert.ok(performance.now() - started < 10_000);
  });

  test("an executor that disappears fails its task", async () => {
    // A platform without workers of its own; a real scheduler client takes the task and
    // then goes silent.
    const lonely = await startTestPlatform({
      executorWorkers: 0,
      heartbeatIntervalMs: 200,
      executorTimeoutMs: 1_500,
    });
    try {
      const user = await lonely.createUser("carol", "DataOwner", "c");
      const functionOwner = await lonely.createUser("owner", "FunctionOwner");
      const functionId = await functionOwner.frontend.registerFunction({
        name: "builtin-echo",
        description: "",
        executorType: "builtin",
        public: true,
        arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
      });
      const taskId = await user.frontend.createTask({ functionId, arguments: { message: "x" } });
      await user.frontend.invokeTask(taskId);
      const scheduler = createClient(Scheduler, lonely.platform.internalTransports.scheduler);
      const { stagedTask } = await scheduler.pullTask({
        executorId: "ghost",
        capabilities: ["builtin"],
      });
      assert.equal(stagedTask?.taskId, taskId);
      assert.equal(stagedTask?.functionName, "builtin-echo");
      // Pulling starts the run, and a later Running update from the executor is accepted.
      assert.equal((await user.frontend.getTask(taskId)).status, TaskStatus.Running);
      await scheduler.updateTaskStatus({
        executorId: "ghost",
        taskId,
        taskStatus: TaskStatus.Running,
      });
      const task = await waitForStatus(user, taskId, TaskStatus.Failed, 10_000);
      const reason = task.result?.result.case === "Err" ? task.result.result.value.reason : "";
      assert.equal(reason, "Runtime Error: Executor Timeout");
      await rejectsWith(
        scheduler.updateTaskResult({
          executorId: "ghost",
          taskId,
          result: { result: { case: "Ok", value: {} } },
        }),
        Code.FailedPrecondition,
      );
    } finally {
      await lonely.dispose();
    }
  });

  test("a function changed after approval does not run", async () => {
    const changing = await owner.frontend.registerFunction({
      name: "builtin-echo",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
    });
    const taskId = await alice.frontend.createTask({
      functionId: changing,
      arguments: { message: "x" },
    });
    await owner.frontend.rpc.updateFunction({
      functionId: changing,
      name: "builtin-echo",
      description: "changed",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: false }],
      usageQuota: -1,
    });
    await rejectsWith(
      alice.frontend.invokeTask(taskId),
      Code.FailedPrecondition,
      /changed after task/,
    );
    assert.equal((await alice.frontend.getTask(taskId)).status, TaskStatus.Created);
  });

  test("usage quota stops invocations past the limit", async () => {
    const limited = await owner.frontend.registerFunction({
      name: "builtin-echo",
      description: "",
      executorType: "builtin",
      public: true,
      usageQuota: 1,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
    });
    const first = await alice.frontend.createTask({
      functionId: limited,
      arguments: { message: "1" },
    });
    await alice.frontend.invokeTask(first);
    const second = await alice.frontend.createTask({
      functionId: limited,
      arguments: { message: "2" },
    });
    await rejectsWith(alice.frontend.invokeTask(second), Code.ResourceExhausted, /quota of 1/);
    const stats = await alice.frontend.rpc.getFunctionUsageStats({ functionId: limited });
    assert.equal(stats.functionQuota, 1);
    assert.equal(stats.currentUsage, 1);
  });

  test("a disabled function accepts no new task, public or not", async () => {
    const disabled = await owner.frontend.registerFunction({
      name: "builtin-echo",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
    });
    await owner.frontend.rpc.disableFunction({ functionId: disabled });
    await rejectsWith(
      alice.frontend.createTask({ functionId: disabled, arguments: { message: "x" } }),
      Code.FailedPrecondition,
      /disabled/,
    );
  });

  test("an output file serves one task only", async () => {
    const output = await alice.frontend.registerOutputFile(
      "file:///tmp/cloister-never-written",
      aesCrypto,
    );
    const join = await owner.frontend.registerFunction({
      name: "builtin-ordered-set-join",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: ["left_column", "right_column", "ascending", "drop"].map((key) => ({
        key,
        defaultValue: "",
        allowOverwrite: true,
      })),
      inputs: [slot("input_data1"), slot("input_data2")],
      outputs: [slot("output_result")],
    });
    const create = () =>
      alice.frontend.createTask({
        functionId: join,
        arguments: { left_column: 0, right_column: 0, ascending: true, drop: true },
        inputsOwnership: { input_data1: ["alice"], input_data2: ["alice"] },
        outputsOwnership: { output_result: ["alice"] },
      });
    const first = await create();
    await alice.frontend.assignData(first, { outputs: { output_result: output } });
    const second = await create();
    await rejectsWith(
      alice.frontend.assignData(second, { outputs: { output_result: output } }),
      Code.FailedPrecondition,
      /already used by a task/,
    );
    // Deleting the first task before it ran frees the output again.
    await alice.frontend.rpc.deleteTask({ taskId: first });
    await alice.frontend.assignData(second, { outputs: { output_result: output } });
    await rejectsWith(alice.frontend.getTask(first), Code.NotFound);
  });

  test("audit log records calls and failed authentications", async () => {
    const admin = await platform.login("admin", "teaclave");
    const { frontend } = platform.anonymous();
    await assert.rejects(frontend.rpc.getTask({ taskId: "task-x" }));
    await owner.frontend.rpc.listFunctions({ userId: "owner" });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const mine = await admin.frontend.rpc.queryAuditLogs({ query: "user:owner", limit: 100n });
    assert.ok(mine.logs.some((entry) => entry.message === "register_function" && entry.result));
    const failures = await admin.frontend.rpc.queryAuditLogs({
      query: "message:authenticate",
      limit: 100n,
    });
    assert.ok(failures.logs.length > 0);
    for (const entry of failures.logs) {
      assert.equal(entry.user, "");
      assert.equal(entry.result, false);
    }
    assert.equal(failures.logs[0]!.ip.length, 16);
  });
});
