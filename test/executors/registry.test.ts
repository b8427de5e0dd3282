import assert from "node:assert/strict";
import { test } from "node:test";
import { createExecutors } from "../../src/executors/registry.ts";

test("registry offers Teaclave executor pairs", async () => {
  const executors = createExecutors();
  const pairs = executors.map((executor) => `${executor.executorType}/${executor.name}`).sort();
  assert.deepEqual(pairs, [
    "builtin/builtin",
    "javascript/javascript",
    "python/mesapy",
    "wamr/wamr",
  ]);
  await Promise.all(executors.map((executor) => executor.close()));
});
