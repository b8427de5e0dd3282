import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { startTestPlatform } from "../helpers/test-platform.ts";
import type { Session, TestPlatform } from "../helpers/test-platform.ts";
import { rejectsWith } from "../helpers/rejects-with.ts";

describe("authentication API", () => {
  let platform: TestPlatform;
  let admin: Session;

  before(async () => {
    platform = await startTestPlatform({ executorWorkers: 1 });
    admin = await platform.login("admin", "teaclave");
  });
  after(() => platform.dispose());

  test("login rejects a wrong password and an unknown user alike", async () => {
    const { authentication } = platform.anonymous();
    await rejectsWith(
      authentication.login("admin", "wrong"),
      Code.Unauthenticated,
      /invalid user id or password/,
    );
    await rejectsWith(
      authentication.login("nobody", "teaclave"),
      Code.Unauthenticated,
      /invalid user id or password/,
    );
  });

  test("repeated failed logins lock the id for a minute", async () => {
    await platform.createUser("guessed", "FunctionOwner");
    const { authentication } = platform.anonymous();
    for (let attempt = 0; attempt < 5; attempt++) {
      await rejectsWith(authentication.login("guessed", `guess-${attempt}`), Code.Unauthenticated);
    }
    await rejectsWith(
      authentication.login("guessed", "guessed-password"),
      Code.ResourceExhausted,
      /try again/,
    );
    await platform.login("admin", "teaclave");
  });

  test("calls without credentials are unauthenticated", async () => {
    const { authentication, frontend } = platform.anonymous();
    await rejectsWith(authentication.listUsers(), Code.Unauthenticated);
    await rejectsWith(frontend.rpc.listFunctions({ userId: "admin" }), Code.Unauthenticated);
  });

  test("a forged token is rejected", async () => {
    const { authentication } = platform.anonymous();
    authentication.setCredentials({ id: "admin", token: "eyJhbGciOiJIUzUxMiJ9.e30.AAAA" });
    await rejectsWith(authentication.listUsers(), Code.Unauthenticated);
  });

  test("a token of one user does not work for another id", async () => {
    const user = await platform.createUser("token-owner", "FunctionOwner");
    const { authentication } = platform.anonymous();
    const { token } = await user.authentication.rpc.userLogin({
      id: "token-owner",
      password: "token-owner-password",
    });
    authentication.setCredentials({ id: "admin", token });
    await rejectsWith(authentication.listUsers(), Code.Unauthenticated);
  });

  test("register validates id, role and duplicates", async () => {
    await rejectsWith(
      admin.authentication.registerUser("", "pw", "FunctionOwner"),
      Code.InvalidArgument,
      /user id is missing/,
    );
    await rejectsWith(
      admin.authentication.registerUser("bad role", "pw", "FunctionOwner"),
      Code.InvalidArgument,
      /invalid user id/,
    );
    await rejectsWith(
      admin.authentication.registerUser("u-role", "pw", "Superuser"),
      Code.InvalidArgument,
      /invalid role "Superuser"/,
    );
    await rejectsWith(
      admin.authentication.registerUser("u-attr", "pw", "DataOwner", ""),
      Code.InvalidArgument,
      /invalid attribute/,
    );
    await admin.authentication.registerUser("duplicate", "pw", "FunctionOwner");
    await rejectsWith(
      admin.authentication.registerUser("duplicate", "pw2", "FunctionOwner"),
      Code.AlreadyExists,
    );
  });

  test("delegation rules of register", async () => {
    const manager = await platform.createUser("manager-a", "DataOwnerManager", "groupA");
    const owner = await platform.createUser("fo-1", "FunctionOwner");
    const dataOwner = await platform.createUser("do-a1", "DataOwner", "groupA");
    await manager.authentication.registerUser("do-a2", "pw", "DataOwner", "groupA");
    await rejectsWith(
      manager.authentication.registerUser("do-b1", "pw", "DataOwner", "groupB"),
      Code.PermissionDenied,
    );
    await rejectsWith(
      manager.authentication.registerUser("fo-x", "pw", "FunctionOwner"),
      Code.PermissionDenied,
    );
    await owner.authentication.registerUser("manager-c", "pw", "DataOwnerManager", "groupC");
    await rejectsWith(
      owner.authentication.registerUser("do-c1", "pw", "DataOwner", "groupC"),
      Code.PermissionDenied,
    );
    await rejectsWith(
      dataOwner.authentication.registerUser("do-a3", "pw", "DataOwner", "groupA"),
      Code.PermissionDenied,
    );
  });

  test("a DataOwnerManager cannot take over accounts outside its group", async () => {
    const manager = await platform.createUser("manager-d", "DataOwnerManager", "groupD");
    await platform.createUser("do-d1", "DataOwner", "groupD");
    await platform.createUser("do-e1", "DataOwner", "groupE");
    await rejectsWith(
      manager.authentication.updateUser("admin", "taken", "DataOwner", "groupD"),
      Code.PermissionDenied,
    );
    await rejectsWith(
      manager.authentication.updateUser("do-e1", "taken", "DataOwner", "groupD"),
      Code.PermissionDenied,
    );
    await rejectsWith(
      manager.authentication.updateUser("do-d1", "pw", "PlatformAdmin"),
      Code.PermissionDenied,
    );
    await manager.authentication.updateUser("do-d1", "new-password", "DataOwner", "groupD");
    await platform.login("do-d1", "new-password");
    await platform.login("admin", "teaclave");
  });

  test("a password change revokes earlier tokens", async () => {
    const user = await platform.createUser("changer", "FunctionOwner");
    await user.authentication.changePassword("changed-password");
    await rejectsWith(user.authentication.listUsers(), Code.Unauthenticated);
    await rejectsWith(platform.login("changer", "changer-password"), Code.Unauthenticated);
    await platform.login("changer", "changed-password");
  });

  test("reset gives a 32-hex password and revokes the old one", async () => {
    const manager = await platform.createUser("manager-r", "DataOwnerManager", "groupR");
    await platform.createUser("do-r1", "DataOwner", "groupR");
    const password = await manager.authentication.resetPassword("do-r1");
    assert.match(password, /^[0-9a-f]{32}$/);
    await rejectsWith(platform.login("do-r1", "do-r1-password"), Code.Unauthenticated);
    await platform.login("do-r1", password);
    await rejectsWith(manager.authentication.resetPassword("admin"), Code.PermissionDenied);
  });

  test("list users follows the role rules", async () => {
    const manager = await platform.createUser("manager-l", "DataOwnerManager", "groupL");
    await platform.createUser("do-l1", "DataOwner", "groupL");
    await platform.createUser("do-l2", "DataOwner", "groupL");
    assert.deepEqual((await manager.authentication.listUsers("groupL")).sort(), ["do-l1", "do-l2"]);
    await rejectsWith(manager.authentication.listUsers("groupA"), Code.PermissionDenied);
    const all = await admin.authentication.listUsers();
    assert.ok(all.includes("admin"));
    assert.ok(all.includes("do-l1"));
    const functionOwner = await platform.createUser("fo-l", "FunctionOwner");
    await rejectsWith(functionOwner.authentication.listUsers(), Code.PermissionDenied);
  });

  test("a re-registered id does not revive old tokens", async () => {
    const first = await platform.createUser("reborn", "FunctionOwner");
    await admin.authentication.deleteUser("reborn");
    await admin.authentication.registerUser("reborn", "new-password", "FunctionOwner");
    await rejectsWith(first.frontend.rpc.listFunctions({ userId: "reborn" }), Code.Unauthenticated);
  });

  test("delete removes the account and its tokens", async () => {
    const victim = await platform.createUser("to-delete", "FunctionOwner");
    await rejectsWith(
      admin.authentication.deleteUser("admin"),
      Code.FailedPrecondition,
      /own account/,
    );
    await admin.authentication.deleteUser("to-delete");
    await rejectsWith(
      victim.frontend.rpc.listFunctions({ userId: "to-delete" }),
      Code.Unauthenticated,
    );
    await rejectsWith(admin.authentication.deleteUser("to-delete"), Code.NotFound);
  });
});
