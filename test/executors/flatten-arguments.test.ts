import assert from "node:assert/strict";
import { test } from "node:test";
import { flattenArguments } from "../../src/executors/sandbox/flatten-arguments.ts";

test("flatten sorts keys and pairs values", () => {
  assert.deepEqual(flattenArguments({ b: "2", a: "1" }), ["a", "1", "b", "2"]);
});

test("flatten passes strings unchanged", () => {
  assert.deepEqual(flattenArguments({ s: 'say "hi"' }), ["s", 'say "hi"']);
});

test("flatten writes other values as JSON", () => {
  assert.deepEqual(flattenArguments({ n: 3, t: true, l: [1, "x"], o: { k: null }, z: null }), [
    "l",
    '[1,"x"]',
    "n",
    "3",
    "o",
    '{"k":null}',
    "t",
    "true",
    "z",
    "null",
  ]);
});

test("flatten orders keys by UTF-8 bytes", () => {
  // U+FF5E sorts before U+1F600 by UTF-8 bytes but after it by UTF-16 code units.
  assert.deepEqual(flattenArguments({ "\u{1F600}": "emoji", "\uFF5E": "tilde" }), [
    "\uFF5E",
    "tilde",
    "\u{1F600}",
    "emoji",
  ]);
});

test("flatten of empty object is empty", () => {
  assert.deepEqual(flattenArguments({}), []);
});
