import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CloisterError } from "../../../src/common/errors.ts";
import type { ErrorCode } from "../../../src/common/errors.ts";
import type { ExecutionLimits } from "../../../src/executors/executor.ts";
import { JavaScriptExecutor } from "../../../src/executors/javascript/javascript-executor.ts";
import { teaclaveFixture } from "../../helpers/fixtures.ts";
import { TestFiles, makeRequest } from "../helpers.ts";

const executor = new JavaScriptExecutor({ maxWorkers: 1 });
after(() => executor.close());

async function run(
  source: string,
  options: { files?: TestFiles; limits?: Partial<ExecutionLimits>; signal?: AbortSignal } = {},
): Promise<string> {
  const files = options.files ?? (await TestFiles.create({}));
  const request = makeRequest({
    executorType: "javascript",
    payload: source,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
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
  assert.equal(
    await run(`function entrypoint() { return "still " + "working"; }`),
    "still working",
  );
}

test("javascript host objects are absent", async () => {
  const source = `function entrypoint() {
    return JSON.stringify({
      process: typeof process,
      require: typeof require,
      globalProcess: typeof globalThis.process,
      module: typeof module,
      setTimeout: typeof setTimeout,
      setInterval: typeof setInterval,
      fetch: typeof fetch,
      WebAssembly: typeof WebAssembly,
      performance: typeof performance,
      std: typeof std,
      os: typeof os,
      Buffer: typeof Buffer,
      host: typeof host,
    });
  }`;
  const types = JSON.parse(await run(source)) as Record<string, string>;
  for (const [name, type] of Object.entries(types)) {
    assert.equal(type, "undefined", `${name} is reachable`);
  }
});

test("javascript dynamic import is denied", async () => {
  const source = `
    let outcome = "not tried";
    try {
      await import("node:fs");
      outcome = "imported";
    } catch (error) {
      outcome = "denied";
    }
    export function entrypoint() { return outcome; }`;
  assert.equal(await run(source), "denied");
});

test("javascript static import is denied", async () => {
  const source = `import { readFileSync } from "node:fs";
    export function entrypoint() { return typeof readFileSync; }`;
  assert.match(await run(source), /^Exception: /);
});

test("javascript Function constructor stays inside", async () => {
  const source = `function entrypoint() {
    const leaked = new Function("return typeof process + typeof require")();
    return leaked;
  }`;
  assert.equal(await run(source), "undefinedundefined");
});

test("javascript clock is coarse", async () => {
  const source = `function entrypoint() {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      for (let spin = 0; spin < 200000; spin++);
      samples.push(Date.now() % 100, new Date().getTime() % 100);
    }
    return samples.join(",");
  }`;
  assert.equal(await run(source), "0,0,0,0,0,0,0,0,0,0");
});

test("javascript ungranted slot is denied", async () => {
  const files = await TestFiles.create({ granted: teaclaveFixture("functions/mesapy/input.txt") }, [
    "out",
  ]);
  const source = `function entrypoint() {
    const messages = [];
    for (const [slot, mode] of [["secret", "rb"], ["secret", "wb"], ["granted", "r"]]) {
      try {
        open(slot, mode);
        messages.push("opened");
      } catch (error) {
        messages.push(error.message);
      }
    }
    return messages.join("|");
  }`;
  assert.equal(
    await run(source, { files }),
    'input slot "secret" is not granted to this run|' +
      'output slot "secret" is not granted to this run|' +
      'open(slot, mode): mode must be "rb" or "wb"',
  );
  await files.remove();
});

test("javascript writing to an input fails", async () => {
  const files = await TestFiles.create({ granted: teaclaveFixture("functions/mesapy/input.txt") }, [
    "out",
  ]);
  const source = `function entrypoint() {
    const input = open("granted", "rb");
    const output = open("out", "wb");
    const messages = [];
    for (const attempt of [() => input.write("x"), () => output.read(), () => open("out", "wb")]) {
      try {
        attempt();
        messages.push("allowed");
      } catch (error) {
        messages.push(error.message);
      }
    }
    return messages.join("|");
  }`;
  assert.equal(
    await run(source, { files }),
    "handle 1 is not an open output|handle 1073741824 is not an open input|" +
      'output slot "out" was already created',
  );
  await files.remove();
});

test("javascript memory bomb is stopped", async () => {
  const source = `function entrypoint() {
    const hoard = [];
    for (;;) hoard.push(new Array(100000).fill(hoard.length));
  }`;
  await assert.rejects(
    run(source, { limits: { memoryBytes: 32 * 2 ** 20 } }),
    hasCode("RESOURCE_EXHAUSTED", /memory limit/),
  );
  await assertHealthy();
});

test("javascript endless loop times out", async () => {
  const source = `function entrypoint() { for (;;) {} }`;
  await assert.rejects(run(source, { limits: { cpuTimeMs: 300 } }), hasCode("DEADLINE_EXCEEDED"));
  await assertHealthy();
});

test("javascript caught interrupt still times out", async () => {
  const source = `function entrypoint() {
    for (;;) {
      try { for (;;) {} } catch (error) {}
    }
  }`;
  await assert.rejects(run(source, { limits: { cpuTimeMs: 300 } }), hasCode("DEADLINE_EXCEEDED"));
  await assertHealthy();
});

test("javascript deep recursion is an exception", async () => {
  const source = `function dive(depth) { return dive(depth + 1) + 1; }
    function entrypoint() { return dive(0); }`;
  assert.match(await run(source), /^Exception: (RangeError|InternalError)$/);
  await assertHealthy();
});

test("javascript cancelled run is stopped", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(
    run(`function entrypoint() { for (;;) {} }`, { signal: controller.signal }),
    hasCode("ABORTED"),
  );
  await assertHealthy();
});

test("javascript output past limit fails run", async () => {
  const files = await TestFiles.create({}, ["out"]);
  const source = `function entrypoint() {
    const out = open("out", "wb");
    out.write("x".repeat(600));
    try { out.write("x".repeat(600)); } catch (error) {}
    return "ignored the error";
  }`;
  await assert.rejects(
    run(source, { files, limits: { outputBytes: 1000 } }),
    hasCode("RESOURCE_EXHAUSTED", /"out"/),
  );
  assert.equal(await files.outputExists("out"), false);
  await files.remove();
});

test("javascript memory limit below minimum", async () => {
  await assert.rejects(
    run(`function entrypoint() {}`, { limits: { memoryBytes: 2 ** 20 } }),
    hasCode("INVALID_ARGUMENT", /memoryBytes/),
  );
});

test("javascript close stops running jobs", async () => {
  const closing = new JavaScriptExecutor({ maxWorkers: 1 });
  const files = await TestFiles.create({});
  const running = closing.execute(
    makeRequest({ executorType: "javascript", payload: `function entrypoint() { for (;;) {} }` }),
    files.runtime,
    new AbortController().signal,
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await closing.close();
  // The job fails as stopped, or as closed when its worker was still starting.
  await assert.rejects(running, (error: unknown) => {
    assert.ok(CloisterError.is(error), `expected a CloisterError, got ${String(error)}`);
    assert.ok(["INTERNAL", "UNAVAILABLE"].includes(error.code), `got code ${error.code}`);
    return true;
  });
  await assert.rejects(
    closing.execute(
      makeRequest({ executorType: "javascript", payload: `function entrypoint() {}` }),
      files.runtime,
      new AbortController().signal,
    ),
    hasCode("UNAVAILABLE", /closed/),
  );
  await files.remove();
});

test("javascript cancel during cold start", async () => {
  const cold = new JavaScriptExecutor({ maxWorkers: 1 });
  const files = await TestFiles.create({});
  const controller = new AbortController();
  const running = cold.execute(
    makeRequest({ executorType: "javascript", payload: `function entrypoint() { for (;;) {} }` }),
    files.runtime,
    controller.signal,
  );
  // A new worker takes longer than this to load its code.
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(running, hasCode("ABORTED"));
  const outcome = await cold.execute(
    makeRequest({ executorType: "javascript", payload: `function entrypoint() { return "ok"; }` }),
    files.runtime,
    new AbortController().signal,
  );
  assert.equal(outcome.summary, "ok");
  await cold.close();
  await files.remove();
});
