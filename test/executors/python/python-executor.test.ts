import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, test } from "node:test";
import { MesapyExecutor } from "../../../src/executors/python/python-executor.ts";
import type { FunctionRuntime } from "../../../src/functions/runtime.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, makeRequest } from "../helpers.ts";

// At most one interpreter process at a time; each run gets a fresh one.
const executor = new MesapyExecutor({ maxInterpreters: 1 });
after(() => executor.close());

async function payload(name: string): Promise<string> {
  return readFile(new URL(`./payloads/${name}`, import.meta.url), "utf8");
}

async function run(
  source: string,
  runtime: FunctionRuntime,
  args: Record<string, unknown> = {},
): Promise<string> {
  const request = makeRequest({ executorType: "python", payload: source, arguments: args });
  const outcome = await executor.execute(request, runtime, new AbortController().signal);
  return outcome.summary;
}

test("python echo returns message", async () => {
  const files = await TestFiles.create({});
  const summary = await run(await payload("echo.py"), files.runtime, {
    message: "Hello, Teaclave!",
  });
  assert.equal(summary, "Hello, Teaclave!");
  await files.remove();
});

test("python optional file present", async () => {
  const files = await TestFiles.create({
    input_data1: teaclaveFixture("functions/mesapy/input.txt"),
  });
  assert.equal(await run(await payload("optional_files.py"), files.runtime), "Hello\n");
  await files.remove();
});

test("python optional file absent", async () => {
  const files = await TestFiles.create({});
  const summary = await run(await payload("optional_files.py"), files.runtime);
  assert.equal(summary, "input_data1 does not exist");
  await files.remove();
});

test("python data fusion mixes lines", async () => {
  const files = await TestFiles.create(
    {
      InPartyA: teaclaveFixture("fusion/input1.txt"),
      InPartyB: teaclaveFixture("fusion/input2.txt"),
    },
    ["OutFusionData"],
  );
  assert.equal(await run(await payload("data_fusion.py"), files.runtime), "Mixed 5 lines of data");
  const fused = await files.output("OutFusionData");
  assert.equal(fused, "u1_hello\nu1_teaclave\nu2_welcome\nu2_to\nu2_teaclave\n");

  const counting = await TestFiles.create({ InputData: teaclaveFixture("fusion/input1.txt") });
  const second = await TestFiles.create({ InputData: teaclaveFixture("fusion/input2.txt") });
  const source = await payload("word_line_count.py");
  assert.equal(await run(source, counting.runtime, { query: "teaclave" }), "1");
  assert.equal(await run(source, second.runtime, { query: "teaclave" }), "1");
  await Promise.all([files.remove(), counting.remove(), second.remove()]);
});

test("python word count of fused data", async () => {
  const fused = await TestFiles.create(
    {
      InPartyA: teaclaveFixture("fusion/input1.txt"),
      InPartyB: teaclaveFixture("fusion/input2.txt"),
    },
    ["OutFusionData"],
  );
  await run(await payload("data_fusion.py"), fused.runtime);
  const files = await TestFiles.create({ InputData: fused.outputPath("OutFusionData") });
  const summary = await run(await payload("word_line_count.py"), files.runtime, {
    query: "teaclave",
  });
  assert.equal(summary, "2");
  await Promise.all([fused.remove(), files.remove()]);
});

test("python logistic regression train then predict", async () => {
  const source = await payload("logistic_regression.py");
  const training = await TestFiles.create(
    { training_data: teaclaveFixture("functions/py_logistic_reg/train.txt") },
    ["params", "scaler"],
  );
  const trained = await run(source, training.runtime, {
    operation: "train",
    train_file: "training_data",
    params_saved: "params",
    scaler_saved: "scaler",
  });
  assert.equal(trained, "Trained 100 lines of data.");

  const predicting = await TestFiles.create({
    predict_data: teaclaveFixture("functions/py_logistic_reg/predict.txt"),
    params: training.outputPath("params"),
    scaler: training.outputPath("scaler"),
  });
  const predicted = await run(source, predicting.runtime, {
    operation: "predict",
    predict_file: "predict_data",
    params_saved: "params",
    scaler_saved: "scaler",
  });
  const expected = await readFile(
    teaclaveFixture("functions/py_logistic_reg/py_result.txt"),
    "utf8",
  );
  assert.equal(predicted, expected.trim());
  assert.equal(predicted, "[1.0 1.0 0.0 0.0 0.0]");
  await Promise.all([training.remove(), predicting.remove()]);
});

test("python file API reads and writes", async () => {
  const files = await TestFiles.create({ input: teaclaveFixture("functions/mesapy/input.txt") }, [
    "output",
  ]);
  const source = `
from teaclave import open as topen

def entrypoint(argv):
    f = teaclave_open("input", "rb")
    first = f.readline()
    rest = f.read()
    lines = topen("input", "rb").readlines()
    with teaclave_open("output", "wb") as out:
        out.write("This message is from Mesapy!")
        out.write(b" bytes")
    return repr([first, rest, lines, topen("input", "rb").read(3)])
`;
  assert.equal(
    await run(source, files.runtime),
    "['Hello\\n', 'World', ['Hello\\n', 'World'], 'Hel']",
  );
  assert.equal(await files.output("output"), "This message is from Mesapy! bytes");
  await files.remove();
});

test("python file modes and slots", async () => {
  const files = await TestFiles.create({ input: teaclaveFixture("functions/mesapy/input.txt") }, [
    "output",
  ]);
  const source = `
def attempt(slot, mode):
    try:
        teaclave_open(slot, mode)
        return "opened"
    except RuntimeError as error:
        assert error.message == str(error)
        return error.message

def entrypoint(argv):
    return "|".join([
        attempt("input", "r"),
        attempt("input", "w"),
        attempt("input", "ab"),
        attempt("missing", "rb"),
        attempt("missing", "wb"),
        attempt("output", "wb"),
        attempt("output", "wb"),
    ])
`;
  const expected = [
    "Teaclave Not Supported",
    "Teaclave Not Supported",
    "Teaclave Not Supported",
    "fileio_init: teaclave_ffi_error",
    "fileio_init: teaclave_ffi_error",
    "opened",
    "fileio_init: teaclave_ffi_error",
  ].join("|");
  assert.equal(await run(source, files.runtime), expected);
  await files.remove();
});

test("python uncaught exception gives exec error", async () => {
  const files = await TestFiles.create({});
  const source = "def entrypoint(argv):\n    raise ValueError('secret 1234')\n";
  assert.equal(await run(source, files.runtime), "MESAPY_EXEC_ERROR");
  assert.equal(await run("def entrypoint(argv)\n", files.runtime), "MESAPY_EXEC_ERROR");
  assert.equal(await run("def main(argv):\n    return 'x'\n", files.runtime), "MESAPY_EXEC_ERROR");
  await files.remove();
});

test("python long summary is too short", async () => {
  const files = await TestFiles.create({});
  const exact = "def entrypoint(argv):\n    return 'x' * 20480\n";
  const over = "def entrypoint(argv):\n    return 'x' * 20481\n";
  assert.equal((await run(exact, files.runtime)).length, 20480);
  assert.equal(await run(over, files.runtime), "MESAPY_ERROR_BUFFER_TOO_SHORT");
  await files.remove();
});

test("python globals do not leak between tasks", async () => {
  const files = await TestFiles.create({});
  const probe = `
def probe(read):
    try:
        read()
        return True
    except NameError:
        return False

def seen():
    names = []
    if probe(lambda: SECRET):
        names.append("SECRET")
    if probe(lambda: LEFT_BEHIND):
        names.append("LEFT_BEHIND")
    if probe(lambda: json):
        names.append("json")
    if hasattr(multiarray, "marker"):
        names.append("marker")
    return ",".join(names) or "nothing"
`;
  const setter = `
import json
from _numpypy import multiarray
SECRET = "task one"
multiarray.marker = "task one"
${probe}
def entrypoint(argv):
    global LEFT_BEHIND
    LEFT_BEHIND = "task one"
    return seen()
`;
  const reader = `
from _numpypy import multiarray
${probe}
def entrypoint(argv):
    return seen()
`;
  assert.equal(await run(setter, files.runtime), "SECRET,LEFT_BEHIND,json,marker");
  assert.equal(await run(reader, files.runtime), "nothing");
  await files.remove();
});

test("python arguments are flattened sorted", async () => {
  const files = await TestFiles.create({});
  const source = "def entrypoint(argv):\n    return '|'.join(argv)\n";
  const summary = await run(source, files.runtime, { b: 2, a: "x", c: { d: [1] } });
  assert.equal(summary, 'a|x|b|2|c|{"d":[1]}');
  await files.remove();
});

test("python numpypy stand-in computes", async () => {
  const files = await TestFiles.create({});
  const source = `
import struct
from _numpypy import multiarray as np, umath

def entrypoint(argv):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.frombuffer(struct.pack("<2d", 0.5, 2.0))
    return "|".join([
        str(a.dot(v)),
        str(a.T),
        str(np.zeros(3) + 1),
        str(a.min(axis=0)),
        str(a.max(axis=1)),
        "%.4f" % umath.exp(1.0),
        str(umath.log(np.array([1.0]))),
        str(a.shape),
        str((a - np.array([1.0, 1.0])).sum()),
    ])
`;
  const expected = [
    "[4.5 9.5]",
    "[[1.0 3.0]\n [2.0 4.0]]",
    "[1.0 1.0 1.0]",
    "[1.0 2.0]",
    "[2.0 4.0]",
    "2.7183",
    "[0.0]",
    "(2, 2)",
    "6.0",
  ].join("|");
  assert.equal(await run(source, files.runtime), expected);
  await files.remove();
});

test("python print goes to log", async () => {
  const files = await TestFiles.create({}, ["out"]);
  const source = `
def entrypoint(argv):
    print("read", 2, "lines")
    print("first\\nsecond")
    print("to a file", file=teaclave_open("out", "wb"))
    return "logged"
`;
  const request = (args: Record<string, unknown>) =>
    makeRequest({ executorType: "python", payload: source, arguments: args });
  const saved = await executor.execute(
    request({ save_log: "true" }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(saved.summary, "logged");
  assert.deepEqual(saved.log, [
    "[INFO mesapy] read 2 lines",
    "[INFO mesapy] first",
    "[INFO mesapy] second",
  ]);
  assert.equal(await files.output("out"), "to a file\n");
  const again = await TestFiles.create({}, ["out"]);
  const unsaved = await executor.execute(request({}), again.runtime, new AbortController().signal);
  assert.deepEqual(unsaved.log, []);
  await Promise.all([files.remove(), again.remove()]);
});

test("python class patches do not leak between tasks", async () => {
  const files = await TestFiles.create({});
  const patcher = `
import json

def entrypoint(argv):
    captured = []
    original = json.JSONDecoder.decode

    def spy(self, text, *args, **kwargs):
        captured.append(text)
        return original(self, text, *args, **kwargs)

    json.JSONDecoder.decode = spy
    json.JSONDecoder.captured = captured
    json.loads('{"tenant": "one"}')
    return str(len(captured))
`;
  const victim = `
import json

def entrypoint(argv):
    json.loads('{"tenant": "two"}')
    captured = getattr(json.JSONDecoder, "captured", None)
    return json.JSONDecoder.decode.__name__ + "|" + repr(captured)
`;
  assert.equal(await run(patcher, files.runtime), "1");
  assert.equal(await run(victim, files.runtime), "decode|None");
  await files.remove();
});
