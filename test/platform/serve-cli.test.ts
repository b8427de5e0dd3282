import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { repositoryRoot } from "../helpers/fixtures.ts";

test("serve rejects an unknown --tee mode", async () => {
  const dataDirectory = await mkdtemp(join(tmpdir(), "cloister-serve-cli-"));
  try {
    const result = spawnSync(
      process.execPath,
      [
        join(repositoryRoot, "bin/cloister.mjs"),
        "serve",
        "--tee",
        "sgx-please",
        "--data-dir",
        dataDirectory,
        "--log-level",
        "silent",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      /setting tee must be one of simulation, tsm, gramine, got "sgx-please"/,
    );
  } finally {
    await rm(dataDirectory, { recursive: true, force: true });
  }
});
