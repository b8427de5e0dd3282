import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadPyodide } from "pyodide";
import type { PyodideInterface } from "pyodide";
import { CloisterError } from "../../../src/common/errors.ts";
import type { ErrorCode } from "../../../src/common/errors.ts";
import type { ExecutionLimits } from "../../../src/executors/executor.ts";
import { MesapyExecutor } from "../../../src/executors/python/python-executor.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, makeRequest } from "../helpers.ts";

// At most one interpreter process at a time. Each run gets a fresh one, started from the
// memory snapshot while the previous run ends.
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
    // The minimum memory limit everywhere, so that every run can use the started spare.
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
  // The large heap of this run must not affect the next run.
  const source = `
def entrypoint(argv):
    block = bytearray(300 * 1000 * 1000)
    return str(len(block))
`;
  assert.equal(await run(source, { limits: { memoryBytes: 512 * 2 ** 20 } }), "300000000");
  await assertHealthy();
});

let trusted: Promise<PyodideInterface> | undefined;

/**
 * Returns a Pyodide instance in the test process, outside the sandbox, that makes marshal
 * data with code objects and can import cloister_sandbox directly.
 */
function trustedPyodide(): Promise<PyodideInterface> {
  trusted ??= (async () => {
    const pyodide = await loadPyodide({ packages: [] });
    const sandboxSource = await readFile(
      new URL("../../../src/executors/python/guest/cloister_sandbox.py", import.meta.url),
    );
    pyodide.FS.mkdirTree("/cloister");
    pyodide.FS.writeFile("/cloister/cloister_sandbox.py", sandboxSource);
    pyodide.runPython("import sys\nsys.path.insert(0, '/cloister')\nimport cloister_sandbox");
    return pyodide;
  })();
  return trusted;
}

/** Returns the marshal bytes of the value of the Python expression `expression`. */
async function marshalBytes(expression: string): Promise<Uint8Array> {
  const pyodide = await trustedPyodide();
  const scope = pyodide.globals.get("dict")();
  try {
    pyodide.runPython(
      "import functools, marshal\n" +
        "code = compile('result = \"unchecked\"', '<payload>', 'exec')\n" +
        `data = marshal.dumps(${expression})\n`,
      { globals: scope },
    );
    const proxy = scope.get("data");
    try {
      return proxy.toJs() as Uint8Array;
    } finally {
      proxy.destroy();
    }
  } finally {
    scope.destroy();
  }
}

test("python marshal code objects are rejected", async () => {
  const folder = await mkdtemp(join(tmpdir(), "cloister-marshal-"));
  const datas: Record<string, string> = {};
  const cases: Record<string, string> = {
    // 102 tuples around a code object, past the depth limit of 100.
    deep: "functools.reduce(lambda value, _: (value,), range(102), code)",
    sliced: "slice(code, None, None)",
    keyed: "{('key', code): 1}",
    plain: "code",
  };
  for (const [slot, expression] of Object.entries(cases)) {
    datas[slot] = join(folder, slot);
    await writeFile(datas[slot], await marshalBytes(expression));
  }
  const files = await TestFiles.create(datas);
  const source = `
import marshal

class Source:
    """A file whose readinto() the real marshal.load would call."""

    def __init__(self, data):
        self.data = data.encode("utf-8", "surrogateescape")
        self.position = 0

    def readinto(self, buffer):
        chunk = self.data[self.position : self.position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)

    def read(self, size=-1):
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk

def attempt(slot, load):
    data = teaclave_open(slot, "rb").read()
    try:
        value = load(data)
    except ValueError as error:
        return str(error)
    return "loaded " + type(value).__name__

def entrypoint(argv):
    attempts = [attempt(slot, marshal.loads) for slot in ["deep", "sliced", "keyed", "plain"]]
    attempts.append(attempt("plain", lambda data: marshal.load(Source(data))))
    return "|".join(attempts)
`;
  const summary = await run(source, { files });
  assert.equal(
    summary,
    [
      "marshal data nested deeper than 100 levels is not supported",
      "marshal data with code objects is not supported",
      "marshal data with code objects is not supported",
      "marshal data with code objects is not supported",
      "marshal data with code objects is not supported",
    ].join("|"),
  );
  await Promise.all([files.remove(), rm(folder, { recursive: true, force: true })]);
});

test("python nested data within limit loads", async () => {
  const source = `
import marshal

def entrypoint(argv):
    # 100 nested containers, the limit: 98 tuples, then a dict with a slice in it.
    value = [1]
    for _ in range(98):
        value = (value, {"k": slice(1, 2)})
    loaded = marshal.loads(marshal.dumps(value))
    cyclic = []
    cyclic.append(cyclic)
    marshal.loads(marshal.dumps(cyclic))
    return str(loaded == value)
`;
  assert.equal(await run(source), "True");
});

test("python leaked code cannot become function", async () => {
  // Simulates a hole in the marshal check: the audit hook must still stop the function.
  const pyodide = await trustedPyodide();
  const probes: Record<string, string> = {
    "constructing functions": "type(entrypoint)(code, {})()",
    "constructing code objects": "code.replace(co_name='renamed')",
  };
  for (const [denial, statement] of Object.entries(probes)) {
    const scope = pyodide.globals.get("dict")();
    try {
      scope.set(
        "source",
        `
import marshal

def entrypoint(argv):
    code = marshal.loads(teaclave_open("code", "rb").read())
    try:
        ${statement}
    except Exception:
        pass
    return "ran unchecked code"
`,
      );
      pyodide.runPython(
        "import marshal, cloister_sandbox\n" +
          "check = cloister_sandbox.check_marshal_value\n" +
          "cloister_sandbox.check_marshal_value = lambda value: None\n" +
          "code = compile('result = 1', '<payload>', 'exec')\n" +
          "try:\n" +
          "    result = cloister_sandbox.run_task(source, [], {'code': marshal.dumps(code)}, [], 1000)\n" +
          "finally:\n" +
          "    cloister_sandbox.check_marshal_value = check\n" +
          "violation = result['violation']\n",
        { globals: scope },
      );
      assert.match(String(scope.get("violation")), new RegExp(denial), statement);
    } finally {
      scope.destroy();
    }
  }
});

test("python format field attributes are denied", async () => {
  const escapes = [
    "'{0.__globals__[sys].modules}'.format(teaclave_open)",
    "'{0.__closure__}'.format(teaclave_open)",
    "'{0.__code__}'.format(teaclave_open)",
    "str.format('{0.__globals__}', teaclave_open)",
    "getattr('{0.__globals__}', 'format')(teaclave_open)",
    "'{0:{1.__globals__}}'.format(1, teaclave_open)",
    "'{f.__closure__}'.format_map({'f': teaclave_open})",
    "list(map('{0.__globals__}'.format, [teaclave_open]))",
    "collections.UserString('{0.__globals__}').format(teaclave_open)",
    "collections.UserString.format(collections.UserString('{0.__globals__}'), teaclave_open)",
  ];
  for (const expression of escapes) {
    const source = `import collections\ndef entrypoint(argv):\n    return str(${expression})\n`;
    await assert.rejects(run(source), hasCode("PERMISSION_DENIED", /__/), expression);
  }
});

test("python plain format fields still work", async () => {
  const source = `
import collections

def entrypoint(argv):
    parts = [
        "{0} {1[0]} {2.real} {x}".format("a", [1], 3, x="y"),
        "{a:>{width}}".format_map({"a": "b", "width": 2}),
        getattr("{}", "format")(1),
        str.format("{}", 2),
        collections.UserString("{0}").format(3),
    ]
    format = "{}!".format
    parts.append(format(4))
    return "|".join(parts)
`;
  assert.equal(await run(source), "a 1 3 y| b|1|2|3|4!");
});

test("python reserved names are rejected", async () => {
  const sources = [
    "def entrypoint(__cloister_attribute__):\n    return 'x'\n",
    "__cloister_attribute__ = 1\ndef entrypoint(argv):\n    return 'x'\n",
    "def entrypoint(argv):\n    match 'x':\n        case str(format=f):\n            return 'x'\n",
  ];
  for (const source of sources) {
    await assert.rejects(run(source), hasCode("PERMISSION_DENIED"), source);
  }
});
