import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DerError,
  decodeOid,
  decodeSmallInteger,
  decodeTime,
  integerToHex,
  readDerChildren,
  readDerElement,
} from "../../src/attestation/der.ts";

test("DER long-form length", () => {
  const content = new Uint8Array(300).fill(7);
  const encoded = Uint8Array.from([0x04, 0x82, 0x01, 0x2c, ...content]);
  const element = readDerElement(encoded);
  assert.equal(element.tag, 0x04);
  assert.equal(element.content.length, 300);
  assert.equal(element.encoded.length, 304);
});

test("DER truncation is an error", () => {
  assert.throws(() => readDerElement(Uint8Array.from([0x30])), DerError);
  assert.throws(() => readDerElement(Uint8Array.from([0x30, 0x05, 0x01])), DerError);
  assert.throws(() => readDerElement(Uint8Array.from([0x30, 0x85, 1, 1, 1, 1, 1])), DerError);
  assert.throws(() => readDerElement(Uint8Array.from([0x1f, 0x01, 0x00])), DerError);
});

test("DER children and OIDs", () => {
  // SEQUENCE { OID 1.2.840.113741.1.13.1, INTEGER 300 }
  const oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01];
  const sequence = Uint8Array.from([0x30, 0x0f, ...oid, 0x02, 0x02, 0x01, 0x2c]);
  const [id, value] = readDerChildren(readDerElement(sequence));
  assert.equal(decodeOid(id!.content), "1.2.840.113741.1.13.1");
  assert.equal(decodeSmallInteger(value!), 300);
  assert.throws(() => decodeSmallInteger({ ...value!, tag: 0x04 }), DerError);
  assert.equal(
    decodeOid(Uint8Array.from([0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x0d])),
    "2.16.840.1.113730.1.13",
  );
});

test("DER integers and times", () => {
  assert.equal(integerToHex(Uint8Array.from([0x00, 0x00, 0xab])), "AB");
  assert.equal(integerToHex(Uint8Array.from([0x00])), "00");
  const utc = { tag: 0x17, content: Buffer.from("250719100117Z"), encoded: new Uint8Array() };
  assert.equal(decodeTime(utc), Date.parse("2025-07-19T10:01:17Z"));
  const old = { tag: 0x17, content: Buffer.from("990101000000Z"), encoded: new Uint8Array() };
  assert.equal(decodeTime(old), Date.parse("1999-01-01T00:00:00Z"));
  const generalized = {
    tag: 0x18,
    content: Buffer.from("20491231235959Z"),
    encoded: new Uint8Array(),
  };
  assert.equal(decodeTime(generalized), Date.parse("2049-12-31T23:59:59Z"));
  assert.throws(() => decodeTime({ ...utc, content: Buffer.from("2507191001Z") }), DerError);
});
