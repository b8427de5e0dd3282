import "reflect-metadata";
import { X509Certificate, webcrypto } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { checkNotRevoked, crlToDer, parseCrl, verifyCrl } from "../../src/attestation/crl.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ecdsa = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

async function certificateAuthority(name: string): Promise<{
  certificate: X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name,
    notBefore: new Date("2024-01-01T00:00:00Z"),
    notAfter: new Date("2030-01-01T00:00:00Z"),
    keys,
    signingAlgorithm: ecdsa,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { certificate: new X509Certificate(Buffer.from(certificate.rawData)), keys };
}

async function leaf(
  serialNumber: string,
  issuer: { keys: webcrypto.CryptoKeyPair },
): Promise<X509Certificate> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: "CN=Leaf",
    issuer: "CN=Test CA",
    notBefore: new Date("2024-01-01T00:00:00Z"),
    notAfter: new Date("2030-01-01T00:00:00Z"),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ecdsa,
  });
  return new X509Certificate(Buffer.from(certificate.rawData));
}

test("CRL revocation and validity", async () => {
  const ca = await certificateAuthority("CN=Test CA");
  const other = await certificateAuthority("CN=Other CA");
  const crl = await x509.X509CrlGenerator.create({
    issuer: "CN=Test CA",
    thisUpdate: new Date("2025-01-01T00:00:00Z"),
    nextUpdate: new Date("2025-02-01T00:00:00Z"),
    entries: [{ serialNumber: "00a1b2" }],
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ecdsa,
  });
  const der = new Uint8Array(crl.rawData);
  const pem = `-----BEGIN X509 CRL-----\n${Buffer.from(der).toString("base64")}\n-----END X509 CRL-----\n`;
  const hex = Buffer.from(der).toString("hex");
  for (const input of [der, pem, hex, Buffer.from(hex)]) {
    assert.deepEqual(crlToDer(input), der);
  }

  const parsed = parseCrl(der, "test CRL");
  const now = Date.parse("2025-01-15T00:00:00Z");
  assert.deepEqual(verifyCrl(parsed, ca.certificate, now, "test CRL"), {
    notBefore: Date.parse("2025-01-01T00:00:00Z"),
    notAfter: Date.parse("2025-02-01T00:00:00Z"),
  });
  assert.throws(() => verifyCrl(parsed, other.certificate, now, "test CRL"), {
    code: "CRL_INVALID",
  });
  assert.throws(
    () => verifyCrl(parsed, ca.certificate, Date.parse("2025-03-01T00:00:00Z"), "test CRL"),
    {
      code: "COLLATERAL_EXPIRED",
    },
  );

  const revoked = await leaf("00a1b2", ca);
  const good = await leaf("00a1b3", ca);
  assert.throws(() => checkNotRevoked(parsed, revoked, "test CRL"), { code: "CERT_REVOKED" });
  assert.doesNotThrow(() => checkNotRevoked(parsed, good, "test CRL"));
  assert.throws(() => parseCrl("garbage", "test CRL"), { code: "CRL_INVALID" });
});
