import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatDebugF64,
  formatFixed,
  formatJsonF32,
  formatJsonF64,
} from "../../src/functions/builtin/rust-format.ts";

test("formatFixed rounds exact binary value", () => {
  assert.equal(formatFixed(2, 10), "2.0000000000");
  assert.equal(formatFixed(0.7530123, 4), "0.7530");
  assert.equal(formatFixed(1.005, 2), "1.00"); // 1.005 is stored as 1.00499999999999989…
  assert.equal(formatFixed(0.125, 2), "0.12");
  assert.equal(formatFixed(0.375, 2), "0.38");
  assert.equal(formatFixed(-0.00001, 4), "-0.0000");
  assert.equal(formatFixed(Math.fround(1.0000264645), 10), "1.0000264645");
});

test("formatDebugF64 follows Rust", () => {
  assert.equal(formatDebugF64(1), "1.0");
  assert.equal(formatDebugF64(-2.4154563605850874), "-2.4154563605850874");
  assert.equal(formatDebugF64(0.0001), "0.0001");
  assert.equal(formatDebugF64(0.00001), "1e-5");
  assert.equal(formatDebugF64(-1.25e-7), "-1.25e-7");
  assert.equal(formatDebugF64(1e16), "1e16");
  assert.equal(formatDebugF64(123456789012345.6), "123456789012345.6");
  assert.equal(formatDebugF64(0), "0.0");
  assert.equal(formatDebugF64(-0), "-0.0");
});

test("formatJsonF32 shortest f32 digits", () => {
  assert.equal(formatJsonF32(Math.fround(1.6500001)), "1.6500001");
  assert.equal(formatJsonF32(Math.fround(0.1)), "0.1");
  assert.equal(formatJsonF32(2), "2.0");
  assert.equal(formatJsonF32(Math.fround(-0.5)), "-0.5");
  assert.equal(formatJsonF32(Math.fround(1e-7)), "1e-7");
});

test("formatJsonF64 ryu layout", () => {
  assert.equal(formatJsonF64(0.3), "0.3");
  assert.equal(formatJsonF64(100), "100.0");
  assert.equal(formatJsonF64(0.00001234), "0.00001234");
  assert.equal(formatJsonF64(1e-7), "1e-7");
  assert.equal(formatJsonF64(1.5e16), "1.5e16");
  assert.equal(formatJsonF64(1e20), "1e20");
});
