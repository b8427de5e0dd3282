import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { TeaclaveFrontend } from "../../src/gen/teaclave_frontend_service_pb.ts";
import { startTestPlatform } from "../helpers/test-platform.ts";
import type { Session, TestPlatform } from "../helpers/test-platform.ts";

/**
 * The role-to-API policy as the reference states it (Teaclave's casbin policy plus
 * Cloister's delete RPCs), written out here so that a change to the policy code fails.
 * FunctionOwner may also read, wait for and approve tasks, which Teaclave denied although
 * the owner of a private function must approve every task that uses it.
 */
const functionOwnerApis = new Set([
  "RegisterFunction",
  "UpdateFunction",
  "DeleteFunction",
  "DisableFunction",
  "GetFunction",
  "ListFunctions",
  "GetFunctionUsageStats",
  "GetTask",
  "WaitTask",
  "ApproveTask",
]);
const dataOwnerApis = new Set([
  "RegisterInputFile",
  "RegisterOutputFile",
  "UpdateInputFile",
  "UpdateOutputFile",
  "RegisterFusionOutput",
  "RegisterInputFromOutput",
  "GetOutputFile",
  "GetInputFile",
  "DeleteInputFile",
  "DeleteOutputFile",
  "CreateTask",
  "GetTask",
  "WaitTask",
  "AssignData",
  "ApproveTask",
  "InvokeTask",
  "CancelTask",
  "DeleteTask",
  "GetFunction",
  "ListFunctions",
  "GetFunctionUsageStats",
]);

const expectedApis: Record<string, (api: string) => boolean> = {
  PlatformAdmin: () => true,
  FunctionOwner: (api) => functionOwnerApis.has(api),
  DataOwnerManager: (api) => dataOwnerApis.has(api),
  DataOwner: (api) => dataOwnerApis.has(api),
};

function isApiDenial(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    error.code === Code.PermissionDenied &&
    /may not call/.test(error.rawMessage)
  );
}

async function outcome(call: () => Promise<unknown>): Promise<"allow" | "deny"> {
  try {
    await call();
    return "allow";
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.PermissionDenied) return "deny";
    if (error instanceof ConnectError && error.code === Code.Unauthenticated) throw error;
    return "allow";
  }
}

describe("authorization matrix", () => {
  let platform: TestPlatform;
  const sessions: Record<string, Session> = {};

  before(async () => {
    platform = await startTestPlatform({ executorWorkers: 1 });
    sessions["PlatformAdmin"] = await platform.login("admin", "teaclave");
    sessions["FunctionOwner"] = await platform.createUser("m-fo", "FunctionOwner");
    sessions["DataOwnerManager"] = await platform.createUser("m-dom", "DataOwnerManager", "g");
    sessions["DataOwner"] = await platform.createUser("m-do", "DataOwner", "g");
  });
  after(() => platform.dispose());

  for (const role of Object.keys(expectedApis)) {
    test(`API policy for ${role}`, async () => {
      const client = sessions[role]!.frontend.rpc as unknown as Record<
        string,
        (request: object) => Promise<unknown>
      >;
      for (const method of TeaclaveFrontend.methods) {
        let denied = false;
        try {
          await client[method.localName]!({});
        } catch (error) {
          denied = isApiDenial(error);
        }
        assert.equal(denied, !expectedApis[role]!(method.name), `${role} calling ${method.name}`);
      }
    });
  }

  describe("record rules", () => {
    let owner: Session;
    let otherOwner: Session;
    let dataOwner: Session;
    let sameGroup: Session;
    let otherGroup: Session;
    let admin: Session;
    let privateFunction: string;
    let inputId: string;
    let outputId: string;
    let taskId: string;
    const zeroCrypto = {
      schema: "aes-gcm-128" as const,
      key: new Uint8Array(16),
      iv: new Uint8Array(12),
    };

    before(async () => {
      admin = sessions["PlatformAdmin"]!;
      owner = await platform.createUser("r-owner", "FunctionOwner");
      otherOwner = await platform.createUser("r-other-owner", "FunctionOwner");
      dataOwner = await platform.createUser("r-data", "DataOwner", "bank");
      // Same attribute as r-data: Teaclave's allowlist compared attributes and let it in.
      sameGroup = await platform.createUser("r-same-group", "DataOwner", "bank");
      otherGroup = await platform.createUser("r-other-group", "DataOwner", "other");
      privateFunction = await owner.frontend.registerFunction({
        name: "builtin-password-check",
        description: "private",
        executorType: "builtin",
        public: false,
        inputs: [
          { name: "password", description: "", optional: false },
          { name: "exposed_passwords", description: "", optional: false },
        ],
        userAllowlist: ["r-data"],
      });
      inputId = await dataOwner.frontend.registerInputFile(
        "file:///tmp/in.txt",
        new Uint8Array(16),
        zeroCrypto,
      );
      outputId = await dataOwner.frontend.registerOutputFile("file:///tmp/out.txt", zeroCrypto);
      taskId = await dataOwner.frontend.createTask({
        functionId: privateFunction,
        inputsOwnership: { password: ["r-data"], exposed_passwords: ["r-data"] },
      });
    });

    const cases: [string, () => Session, () => Promise<unknown>, "allow" | "deny"][] = [];
    const add = (
      name: string,
      session: () => Session,
      call: (s: Session) => Promise<unknown>,
      expected: "allow" | "deny",
    ) => cases.push([name, session, () => call(session()), expected]);

    add(
      "owner gets a private function",
      () => owner,
      (s) => s.frontend.rpc.getFunction({ functionId: privateFunction }),
      "allow",
    );
    add(
      "admin gets a private function",
      () => admin,
      (s) => s.frontend.rpc.getFunction({ functionId: privateFunction }),
      "allow",
    );
    add(
      "allow-listed user gets a private function",
      () => dataOwner,
      (s) => s.frontend.rpc.getFunction({ functionId: privateFunction }),
      "allow",
    );
    add(
      "same-group user gets a private function",
      () => sameGroup,
      (s) => s.frontend.rpc.getFunction({ functionId: privateFunction }),
      "deny",
    );
    add(
      "other owner updates a function",
      () => otherOwner,
      (s) =>
        s.frontend.rpc.updateFunction({
          functionId: privateFunction,
          name: "builtin-echo",
          executorType: "builtin",
        }),
      "deny",
    );
    add(
      "other owner disables a function",
      () => otherOwner,
      (s) => s.frontend.rpc.disableFunction({ functionId: privateFunction }),
      "deny",
    );
    add(
      "other owner deletes a function",
      () => otherOwner,
      (s) => s.frontend.rpc.deleteFunction({ functionId: privateFunction }),
      "deny",
    );
    add(
      "owner reads usage of a private function",
      () => owner,
      (s) => s.frontend.rpc.getFunctionUsageStats({ functionId: privateFunction }),
      "allow",
    );
    add(
      "allow-listed user reads usage",
      () => dataOwner,
      (s) => s.frontend.rpc.getFunctionUsageStats({ functionId: privateFunction }),
      "allow",
    );
    add(
      "outsider reads usage",
      () => otherGroup,
      (s) => s.frontend.rpc.getFunctionUsageStats({ functionId: privateFunction }),
      "deny",
    );
    add(
      "user lists own functions",
      () => owner,
      (s) => s.frontend.rpc.listFunctions({ userId: "r-owner" }),
      "allow",
    );
    add(
      "user lists another's functions",
      () => otherOwner,
      (s) => s.frontend.rpc.listFunctions({ userId: "r-owner" }),
      "deny",
    );
    add(
      "admin lists another's functions",
      () => admin,
      (s) => s.frontend.rpc.listFunctions({ userId: "r-owner" }),
      "allow",
    );
    add(
      "owner gets an input",
      () => dataOwner,
      (s) => s.frontend.rpc.getInputFile({ dataId: inputId }),
      "allow",
    );
    add(
      "outsider gets an input",
      () => otherGroup,
      (s) => s.frontend.rpc.getInputFile({ dataId: inputId }),
      "deny",
    );
    add(
      "admin gets an input",
      () => admin,
      (s) => s.frontend.rpc.getInputFile({ dataId: inputId }),
      "deny",
    );
    add(
      "outsider updates an input",
      () => sameGroup,
      (s) => s.frontend.rpc.updateInputFile({ dataId: inputId, url: "file:///tmp/x" }),
      "deny",
    );
    add(
      "owner gets an output",
      () => dataOwner,
      (s) => s.frontend.rpc.getOutputFile({ dataId: outputId }),
      "allow",
    );
    add(
      "outsider gets an output",
      () => sameGroup,
      (s) => s.frontend.rpc.getOutputFile({ dataId: outputId }),
      "deny",
    );
    add(
      "outsider deletes an output",
      () => sameGroup,
      (s) => s.frontend.rpc.deleteOutputFile({ dataId: outputId }),
      "deny",
    );
    add(
      "same-group user creates a task on a private function",
      () => sameGroup,
      (s) =>
        s.frontend.createTask({
          functionId: privateFunction,
          inputsOwnership: { password: ["r-same-group"], exposed_passwords: ["r-same-group"] },
        }),
      "deny",
    );
    add(
      "participant gets a task",
      () => dataOwner,
      (s) => s.frontend.getTask(taskId),
      "allow",
    );
    add(
      "outsider gets a task",
      () => sameGroup,
      (s) => s.frontend.getTask(taskId),
      "deny",
    );
    add(
      "admin outside the task gets it",
      () => admin,
      (s) => s.frontend.getTask(taskId),
      "deny",
    );
    add(
      "private function's owner gets a task on it",
      () => owner,
      (s) => s.frontend.getTask(taskId),
      "allow",
    );
    add(
      "other function owner gets the task",
      () => otherOwner,
      (s) => s.frontend.getTask(taskId),
      "deny",
    );
    add(
      "other function owner approves the task",
      () => otherOwner,
      (s) => s.frontend.approveTask(taskId),
      "deny",
    );
    add(
      "outsider assigns data",
      () => sameGroup,
      (s) => s.frontend.assignData(taskId, { inputs: { password: inputId } }),
      "deny",
    );
    add(
      "outsider approves",
      () => sameGroup,
      (s) => s.frontend.approveTask(taskId),
      "deny",
    );
    add(
      "outsider invokes",
      () => sameGroup,
      (s) => s.frontend.invokeTask(taskId),
      "deny",
    );
    add(
      "outsider cancels",
      () => sameGroup,
      (s) => s.frontend.cancelTask(taskId),
      "deny",
    );
    add(
      "outsider deletes a task",
      () => sameGroup,
      (s) => s.frontend.rpc.deleteTask({ taskId }),
      "deny",
    );
    add(
      "admin queries the audit log",
      () => admin,
      (s) => s.frontend.rpc.queryAuditLogs({ query: "", limit: 10n }),
      "allow",
    );

    test("each case is allowed or denied as specified", async () => {
      for (const [name, , call, expected] of cases) {
        assert.equal(await outcome(call), expected, name);
      }
    });

    test("an allow-listed user sees no payload or allowlist", async () => {
      const view = await dataOwner.frontend.rpc.getFunction({ functionId: privateFunction });
      assert.deepEqual(view.userAllowlist, []);
      const full = await owner.frontend.rpc.getFunction({ functionId: privateFunction });
      assert.deepEqual(full.userAllowlist, ["r-data"]);
    });

    test("only the creator invokes and the admin may cancel", async () => {
      const function2 = await owner.frontend.registerFunction({
        name: "builtin-echo",
        description: "",
        executorType: "builtin",
        public: true,
        arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
      });
      const task = await dataOwner.frontend.createTask({
        functionId: function2,
        arguments: { message: "x" },
        outputsOwnership: {},
      });
      assert.equal(await outcome(() => admin.frontend.invokeTask(task)), "deny");
      assert.equal(await outcome(() => admin.frontend.cancelTask(task)), "allow");
    });

    test("a private function's task runs once its owner approves", async () => {
      const privateEcho = await owner.frontend.registerFunction({
        name: "builtin-echo",
        description: "",
        executorType: "builtin",
        public: false,
        arguments: [{ key: "message", defaultValue: "", allowOverwrite: true }],
        userAllowlist: ["r-data"],
      });
      const task = await dataOwner.frontend.createTask({
        functionId: privateEcho,
        arguments: { message: "approved by the owner" },
      });
      const created = await owner.frontend.getTask(task);
      assert.deepEqual([...created.participants].sort(), ["r-data", "r-owner"]);
      await assert.rejects(dataOwner.frontend.invokeTask(task), (error: unknown) => {
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, Code.FailedPrecondition);
        assert.match(error.rawMessage, /r-owner/);
        return true;
      });
      await dataOwner.frontend.approveTask(task);
      await owner.frontend.approveTask(task);
      await dataOwner.frontend.invokeTask(task);
      const outcomeOfTask = await dataOwner.frontend.waitForTask(task);
      assert.equal(outcomeOfTask.returnValue, "approved by the owner");
    });
  });
});
