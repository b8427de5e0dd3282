import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { repositoryRoot, teaclaveFixture } from "../helpers/fixtures.ts";

const execFileAsync = promisify(execFile);
const psi0 = teaclaveFixture("functions/ordered_set_intersect/psi0.txt");
const psi1 = teaclaveFixture("functions/ordered_set_intersect/psi1.txt");

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cloister function run` with the given options and collects its exit code and output. */
async function runCli(options: readonly string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ["bin/cloister.mjs", "function", "run", ...options],
      { cwd: repositoryRoot },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("function run ordered-set-intersect", async () => {
  const folder = await mkdtemp(join(tmpdir(), "cloister-cli-"));
  try {
    const result = await runCli([
      "--executor=builtin",
      "--name=builtin-ordered-set-intersect",
      '--args={"order":"ascending"}',
      `--input=input_data1=${psi0}`,
      `--input=input_data2=${psi1}`,
      `--output=output_result1=${join(folder, "result1")}`,
      `--output=output_result2=${join(folder, "result2")}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "3 common items\n");
    assert.equal(await readFile(join(folder, "result1"), "utf8"), "0101010");
    assert.equal(await readFile(join(folder, "result2"), "utf8"), "01101");
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test("function run unusable input", async () => {
  const folder = await mkdtemp(join(tmpdir(), "cloister-cli-"));
  try {
    const existing = join(folder, "existing");
    await writeFile(existing, "keep me");
    const intersect = [
      "--name",
      "builtin-ordered-set-intersect",
      "--args",
      '{"order":"ascending"}',
    ];
    const cases: [string, string[], RegExp][] = [
      ["unknown function", ["--name", "builtin-nothing"], /no built-in function is named/],
      ["malformed args", ["--name", "builtin-echo", "--args", "{bad"], /--args is not valid JSON/],
      ["non-object args", ["--name", "builtin-echo", "--args", "[1]"], /must be a JSON object/],
      ["unknown executor", ["--name", "builtin-echo", "--executor", "nope"], /unknown executor/],
      [
        "missing slot",
        [
          ...intersect,
          "--input",
          `input_data1=${psi0}`,
          "--output",
          `output_result1=${join(folder, "o")}`,
        ],
        /input slot "input_data2" is not granted.*--input input_data2=FILE/,
      ],
      [
        "existing output",
        [...intersect, "--input", `input_data1=${psi0}`, "--output", `output_result1=${existing}`],
        /already exists/,
      ],
      [
        "missing input file",
        [...intersect, "--input", `input_data1=${join(folder, "none")}`],
        /not found/,
      ],
      ["missing name", ["--args", "{}"], /required option '--name <name>'/],
      [
        "missing output folder",
        [...intersect, "--output", `output_result1=${join(folder, "none", "o")}`],
        /folder .* not found/,
      ],
    ];
    const results = await Promise.all(cases.map(([, options]) => runCli(options)));
    for (const [index, [label, , message]] of cases.entries()) {
      const result = results[index]!;
      assert.equal(result.code, 2, `${label}: ${result.stderr}`);
      assert.match(result.stderr, message, label);
      assert.equal(result.stdout, "", label);
    }
    assert.equal(await readFile(existing, "utf8"), "keep me");
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test("function run failed decryption", async () => {
  const result = await runCli([
    "--name=builtin_online_decrypt",
    '--args={"key":"aqUdgZ0lJnuz9yiPkoDxMw==","nonce":"AAECAwQFBgcICQoL",' +
      '"encrypted_data":"OqMscYqxk1CshHQZulTrrDlJjS/v6BE/clWJyTerUA==","algorithm":"aes128gcm"}',
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /decryption failed/);
  assert.equal(result.stdout, "");
});

test("function run javascript payload", async () => {
  const folder = await mkdtemp(join(tmpdir(), "cloister-cli-"));
  try {
    const payload = join(folder, "echo.js");
    await writeFile(payload, 'function entrypoint(argv) { return argv.join("="); }');
    const result = await runCli([
      "--executor=javascript",
      "--name=echo",
      '--args={"message":"hi"}',
      `--payload=${payload}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "message=hi\n");
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
