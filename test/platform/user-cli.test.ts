import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repositoryRoot } from "../helpers/fixtures.ts";
import { freePort, startServeProcess } from "../helpers/serve-process.ts";
import type { ServeProcess } from "../helpers/serve-process.ts";

describe("cloister user and admin commands", () => {
  let dataDirectory: string;
  let server: ServeProcess;
  let authenticationPort: number;

  function cloister(args: string[], env: Record<string, string> = {}) {
    return spawnSync(process.execPath, [join(repositoryRoot, "bin/cloister.mjs"), ...args], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  }

  function user(args: string[], env: Record<string, string> = { CLOISTER_PASSWORD: "teaclave" }) {
    return cloister(
      [
        "user",
        "--address",
        `127.0.0.1:${authenticationPort}`,
        "--data-dir",
        dataDirectory,
        ...args,
      ],
      env,
    );
  }

  before(async () => {
    dataDirectory = await mkdtemp(join(tmpdir(), "cloister-cli-"));
    authenticationPort = await freePort();
    server = await startServeProcess({
      dataDirectory,
      authenticationPort,
      frontendPort: await freePort(),
    });
  });
  after(async () => {
    await server.kill("SIGTERM");
    await rm(dataDirectory, { recursive: true, force: true });
  });

  test("register prints a generated password that logs in", async () => {
    const result = user(["register", "carol", "DataOwner", "bank"]);
    assert.equal(result.status, 0, result.stderr);
    const password = /password: (\S+)/.exec(result.stdout)?.[1];
    assert.ok(password !== undefined, result.stdout);
    await server.connect("carol", password);
  });

  test("list, reset and delete act on the platform", async () => {
    assert.equal(
      user(["register", "dave", "FunctionOwner"], {
        CLOISTER_PASSWORD: "teaclave",
        CLOISTER_NEW_PASSWORD: "dave-pw",
      }).status,
      0,
    );
    const listed = user(["list"]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(listed.stdout.split("\n").includes("dave"));
    const reset = user(["reset-password", "dave"]);
    assert.match(reset.stdout.trim(), /^[0-9a-f]{32}$/);
    await server.connect("dave", reset.stdout.trim());
    assert.equal(user(["delete", "dave"]).status, 0);
    assert.ok(!user(["list"]).stdout.split("\n").includes("dave"));
  });

  test("a missing password variable is a usage error", () => {
    const result = user(["list"], {});
    assert.equal(result.status, 2);
    assert.match(result.stderr, /CLOISTER_PASSWORD/);
  });

  test("a wrong password is rejected with exit code 1", () => {
    const result = user(["list"], { CLOISTER_PASSWORD: "wrong" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /invalid user id or password/);
  });

  test("token key rotation keeps old tokens valid", async () => {
    const before = await server.connect("admin", "teaclave");
    const { token } = await before.authentication.rpc.userLogin({
      id: "admin",
      password: "teaclave",
    });
    const rotated = cloister(["admin", "rotate-token-key", "--data-dir", dataDirectory]);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /new signing key/);
    const { frontend } = await server.clients({ id: "admin", token });
    await frontend.rpc.listFunctions({ userId: "admin" });
    await server.connect("admin", "teaclave");
  });

  test("attest verifies and prints the endpoint's evidence", () => {
    const address = `127.0.0.1:${authenticationPort}`;
    const accepted = cloister(["attest", "--address", address, "--data-dir", dataDirectory]);
    assert.equal(accepted.status, 0, accepted.stderr);
    const verdict = JSON.parse(accepted.stdout) as Record<string, unknown>;
    assert.equal(verdict["accepted"], true);
    assert.equal(verdict["tee"], "simulation");
    assert.equal(verdict["hardwareProtected"], false);
    const wrong = cloister([
      "attest",
      "--address",
      address,
      "--data-dir",
      dataDirectory,
      "--measurement",
      "00".repeat(32),
    ]);
    assert.equal(wrong.status, 1);
    assert.equal((JSON.parse(wrong.stdout) as Record<string, unknown>)["accepted"], false);
  });

  test("rotation refuses a directory without platform data", () => {
    const result = cloister([
      "admin",
      "rotate-token-key",
      "--data-dir",
      join(dataDirectory, "nothing"),
    ]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no platform data/);
  });
});
