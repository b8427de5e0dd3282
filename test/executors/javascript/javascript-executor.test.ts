import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CloisterError } from "../../../src/common/errors.ts";
import { JavaScriptExecutor } from "../../../src/executors/javascript/javascript-executor.ts";
import type { FunctionRuntime } from "../../../src/functions/runtime.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, makeRequest } from "../helpers.ts";

const executor = new JavaScriptExecutor();
after(() => executor.close());

async function run(
  source: string,
  runtime: FunctionRuntime,
  args: Record<string, unknown> = {},
): Promise<string> {
  const request = makeRequest({ executorType: "javascript", payload: source, arguments: args });
  const outcome = await executor.execute(request, runtime, new AbortController().signal);
  return outcome.summary;
}

test("javascript echo returns message", async () => {
  const files = await TestFiles.create({});
  const source = `function entrypoint(argv) { return argv[0] === "message" ? argv[1] : "bad"; }`;
  assert.equal(
    await run(source, files.runtime, { message: "Hello, Teaclave!" }),
    "Hello, Teaclave!",
  );
  await files.remove();
});

test("javascript exported entrypoint runs", async () => {
  const files = await TestFiles.create({});
  const source = `export function entrypoint(argv) { return argv.join("|"); }`;
  assert.equal(await run(source, files.runtime, { b: 2, a: "x" }), "a|x|b|2");
  await files.remove();
});

test("javascript non-string result is converted", async () => {
  const files = await TestFiles.create({});
  assert.equal(await run(`function entrypoint() { return 42; }`, files.runtime), "42");
  assert.equal(await run(`function entrypoint() {}`, files.runtime), "");
  assert.equal(
    await run(`function entrypoint() { return { a: [1] }; }`, files.runtime),
    '{"a":[1]}',
  );
  await files.remove();
});

test("javascript reads lines and writes output", async () => {
  const files = await TestFiles.create(
    {
      InPartyA: teaclaveFixture("fusion/input1.txt"),
      InPartyB: teaclaveFixture("fusion/input2.txt"),
    },
    ["OutFusionData"],
  );
  const source = `
    function entrypoint(argv) {
      const out = open("OutFusionData", "wb");
      let count = 0;
      for (const slot of ["InPartyA", "InPartyB"]) {
        const input = open(slot, "rb");
        for (const line of input.readlines()) {
          out.write(line.endsWith("\\n") ? line : line + "\\n");
          count += 1;
        }
        input.close();
      }
      out.close();
      return "Mixed " + count + " lines of data";
    }`;
  assert.equal(await run(source, files.runtime), "Mixed 5 lines of data");
  assert.equal(
    await files.output("OutFusionData"),
    "u1_hello\nu1_teaclave\nu2_welcome\nu2_to\nu2_teaclave\n",
  );
  await files.remove();
});

test("javascript read, readline and bytes", async () => {
  const files = await TestFiles.create({ input: teaclaveFixture("functions/mesapy/input.txt") }, [
    "output",
  ]);
  const source = `
    function entrypoint() {
      const first = open("input", "rb");
      const line = first.readline();
      const rest = first.read();
      const again = open("input", "rb");
      const bytes = new Uint8Array(again.readBytes(2));
      const out = open("output", "wb");
      out.write(new Uint8Array([79, 75]));
      out.write("!");
      out.close();
      return JSON.stringify([line, rest, bytes[0], bytes[1], again.read(3)]);
    }`;
  assert.equal(
    await run(source, files.runtime),
    JSON.stringify(["Hello\n", "World", 72, 101, "llo"]),
  );
  assert.equal(await files.output("output"), "OK!");
  await files.remove();
});

test("javascript uncaught exception names error", async () => {
  const files = await TestFiles.create({});
  const source = `function entrypoint() { throw new TypeError("secret value 1234"); }`;
  assert.equal(await run(source, files.runtime), "Exception: TypeError");
  await files.remove();
});

test("javascript syntax error is an exception", async () => {
  const files = await TestFiles.create({});
  assert.equal(await run(`function entrypoint( {`, files.runtime), "Exception: SyntaxError");
  await files.remove();
});

test("javascript missing entrypoint is an exception", async () => {
  const files = await TestFiles.create({});
  assert.equal(await run(`function main() {}`, files.runtime), "Exception: TypeError");
  await files.remove();
});

test("javascript oversized summary is rejected", async () => {
  const files = await TestFiles.create({});
  await assert.rejects(
    run(`function entrypoint() { return "x".repeat(20481); }`, files.runtime),
    (error: unknown) => CloisterError.is(error) && error.code === "RESOURCE_EXHAUSTED",
  );
  await files.remove();
});

test("javascript invalid UTF-8 payload is rejected", async () => {
  const files = await TestFiles.create({});
  const request = makeRequest({ executorType: "javascript", payload: Uint8Array.of(0xff, 0xfe) });
  await assert.rejects(
    executor.execute(request, files.runtime, new AbortController().signal),
    (error: unknown) => CloisterError.is(error) && error.code === "INVALID_ARGUMENT",
  );
  await files.remove();
});

test("javascript globals do not leak between runs", async () => {
  const files = await TestFiles.create({});
  const setter = `globalThis.secret = "run one"; Object.prototype.tainted = true;
    function entrypoint() { return typeof secret + " " + typeof ({}).tainted; }`;
  const reader = `function entrypoint() { return typeof secret + " " + typeof ({}).tainted; }`;
  assert.equal(await run(setter, files.runtime), "string boolean");
  assert.equal(await run(reader, files.runtime), "undefined undefined");
  await files.remove();
});

test("javascript async entrypoint is awaited", async () => {
  const files = await TestFiles.create({});
  const resolved = `async function entrypoint(argv) { await null; return "done " + argv.length; }`;
  const rejected = `async function entrypoint() { await null; throw new RangeError("x"); }`;
  const pending = `function entrypoint() { return new Promise(() => {}); }`;
  assert.equal(await run(resolved, files.runtime, { a: "1" }), "done 2");
  assert.equal(await run(rejected, files.runtime), "Exception: RangeError");
  assert.equal(await run(pending, files.runtime), "Exception: TypeError");
  await files.remove();
});

test("javascript console goes to log", async () => {
  const files = await TestFiles.create({});
  const source = `function entrypoint(argv) {
    console.log("read", 2, "lines", { ok: true });
    console.error("first\\nsecond");
    return "logged";
  }`;
  const request = (args: Record<string, unknown>) =>
    makeRequest({ executorType: "javascript", payload: source, arguments: args });
  const saved = await executor.execute(
    request({ save_log: "true" }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(saved.summary, "logged");
  assert.deepEqual(saved.log, [
    '[INFO javascript] read 2 lines {"ok":true}',
    "[ERROR javascript] first",
    "[ERROR javascript] second",
  ]);
  const unsaved = await executor.execute(request({}), files.runtime, new AbortController().signal);
  assert.deepEqual(unsaved.log, []);
  await files.remove();
});
