import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, test } from "node:test";
import { CloisterError } from "../../../src/common/errors.ts";
import type { ErrorCode } from "../../../src/common/errors.ts";
import type { ExecutionLimits } from "../../../src/executors/executor.ts";
import { MesapyExecutor } from "../../../src/executors/python/python-executor.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, makeRequest } from "../helpers.ts";

// One interpreter for the file; each stopped run costs a fresh load of about 2 s.
const executor = new MesapyExecutor({ maxInterpreters: 1 });
after(() => executor.close());

async function run(
  source: string,
  options: { files?: TestFiles; limits?: Partial<ExecutionLimits>; signal?: AbortSignal } = {},
): Promise<string> {
  const files = options.files ?? (await TestFiles.create({}));
  const request = makeRequest({
    executorType: "python",
    payload: source,
    // The minimum memory limit everywhere, so that every run can use the same interpreter.
    limits: { memoryBytes: 128 * 2 ** 20, ...options.limits },
  });
  try {
    const outcome = await executor.execute(
      request,
      files.runtime,
      options.signal ?? new AbortController().signal,
    );
    return outcome.summary;
  } finally {
    if (options.files === undefined) await files.remove();
  }
}

function hasCode(code: ErrorCode, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(CloisterError.is(error), `expected a CloisterError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

async function assertHealthy(): Promise<void> {
  assert.equal(await run("def entrypoint(argv):\n    return 'still working'\n"), "still working");
}

test("python host modules are denied", async () => {
  for (const module of [
    "os",
    "js",
    "pyodide",
    "pyodide_js",
    "subprocess",
    "socket",
    "sys",
    "micropip",
  ]) {
    const source = `import ${module}\ndef entrypoint(argv):\n    return 'imported'\n`;
    await assert.rejects(run(source), hasCode("PERMISSION_DENIED", new RegExp(`"${module}"`)));
  }
  for (const module of ["ctypes", "_pyodide", "importlib", "builtins", "gc", "posix"]) {
    const source = `def entrypoint(argv):\n    __import__('${module}')\n`;
    await assert.rejects(run(source), hasCode("PERMISSION_DENIED"));
  }
});

test("python caught denial still fails", async () => {
  const source = `
def entrypoint(argv):
    try:
        import os
    except Exception:
        return "caught"
`;
  await assert.rejects(run(source), hasCode("PERMISSION_DENIED", /"os"/));
});

test("python introspection escapes are denied", async () => {
  const escapes = [
    "().__class__.__base__.__subclasses__()",
    "getattr((), '__cla' + 'ss__')",
    "entrypoint.__globals__",
    "(x for x in []).gi_frame",
    "type(argv).mro()",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'f', 'eval')",
    "open('/etc/passwd')",
    "globals()",
    "vars()",
  ];
  for (const expression of escapes) {
    const source = `def entrypoint(argv):\n    return str(${expression})\n`;
    await assert.rejects(run(source), hasCode("PERMISSION_DENIED"), expression);
  }
});

test("python match pattern escape is denied", async () => {
  const source = `
def entrypoint(argv):
    match ():
        case object(__class__=found):
            return str(found)
    return "no match"
`;
  await assert.rejects(run(source), hasCode("PERMISSION_DENIED", /__class__/));
});

test("python dunder import is denied", async () => {
  const source = "from json import __dict__\ndef entrypoint(argv):\n    return 'x'\n";
  await assert.rejects(run(source), hasCode("PERMISSION_DENIED", /__dict__/));
});

test("python module views hide submodules", async () => {
  const source = `
import json
import random
import re

def entrypoint(argv):
    return ",".join(
        name for name, value in [
            ("random.os", hasattr(random, "os")),
            ("json.decoder", hasattr(json, "decoder")),
            ("re.enum", hasattr(re, "enum")),
            ("json.dumps", hasattr(json, "dumps")),
        ] if value
    )
`;
  assert.equal(await run(source), "json.dumps");
});

test("python writing to an input fails", async () => {
  const files = await TestFiles.create({ granted: teaclaveFixture("functions/mesapy/input.txt") }, [
    "out",
  ]);
  const source = `
def entrypoint(argv):
    messages = []
    f = teaclave_open("granted", "rb")
    out = teaclave_open("out", "wb")
    for attempt in [lambda: f.write("x"), lambda: out.read()]:
        try:
            attempt()
            messages.append("allowed")
        except IOError as error:
            messages.append(str(error))
    return "|".join(messages)
`;
  assert.equal(await run(source, { files }), "File not open for writing|File not open for reading");
  await files.remove();
});

test("python memory bomb is stopped", async () => {
  const source = `
def entrypoint(argv):
    hoard = []
    while True:
        hoard.append(bytearray(1000000))
`;
  await assert.rejects(
    run(source, { limits: { memoryBytes: 128 * 2 ** 20 } }),
    hasCode("RESOURCE_EXHAUSTED", /memory limit/),
  );
  await assertHealthy();
});

test("python deadloop payload times out", async () => {
  const source = await readFile(new URL("./payloads/deadloop.py", import.meta.url), "utf8");
  await assert.rejects(run(source, { limits: { cpuTimeMs: 500 } }), hasCode("DEADLINE_EXCEEDED"));
  await assertHealthy();
});

test("python deep recursion gives exec error", async () => {
  const source =
    "def dive(n):\n    return dive(n + 1) + 1\n\ndef entrypoint(argv):\n    return dive(0)\n";
  assert.equal(await run(source), "MESAPY_EXEC_ERROR");
  await assertHealthy();
});

test("python cancelled run is stopped", async () => {
  await assertHealthy();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const source = "def entrypoint(argv):\n    while True:\n        pass\n";
  await assert.rejects(run(source, { signal: controller.signal }), hasCode("ABORTED"));
  await assertHealthy();
});

test("python output past limit fails run", async () => {
  const files = await TestFiles.create({}, ["out"]);
  const source = `
def entrypoint(argv):
    out = teaclave_open("out", "wb")
    out.write("x" * 600)
    try:
        out.write("x" * 600)
    except IOError:
        pass
    return "ignored the error"
`;
  await assert.rejects(
    run(source, { files, limits: { outputBytes: 1000 } }),
    hasCode("RESOURCE_EXHAUSTED", /"out"/),
  );
  assert.equal(await files.outputExists("out"), false);
  await files.remove();
});

test("python memory limit below minimum", async () => {
  await assert.rejects(
    run("def entrypoint(argv):\n    return ''\n", { limits: { memoryBytes: 2 ** 20 } }),
    hasCode("INVALID_ARGUMENT", /memoryBytes/),
  );
});

test("python large allocation then normal run", async () => {
  // The grown interpreter is replaced after this run, which the next run must not notice.
  const source = `
def entrypoint(argv):
    block = bytearray(300 * 1000 * 1000)
    return str(len(block))
`;
  assert.equal(await run(source, { limits: { memoryBytes: 512 * 2 ** 20 } }), "300000000");
  await assertHealthy();
});
