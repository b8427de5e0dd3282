import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A TLS key and certificate in PEM. */
export interface TlsCredentials {
  readonly keyPem: string;
  readonly certificatePem: string;
}

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/**
 * Creates an ECDSA P-256 key and a self-signed certificate for `localhost`, 127.0.0.1 and
 * ::1, valid for `validityDays`. Extra extensions (for example attestation evidence) are
 * added as given.
 */
export async function createSelfSignedCredentials(options: {
  commonName: string;
  validityDays: number;
  keyPair?: webcrypto.CryptoKeyPair;
  extensions?: x509.Extension[];
}): Promise<TlsCredentials> {
  const keys =
    options.keyPair ??
    ((await webcrypto.subtle.generateKey(algorithm, true, [
      "sign",
      "verify",
    ])) as webcrypto.CryptoKeyPair);
  const notBefore = new Date(Date.now() - 60_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString("hex"),
    name: `CN=${options.commonName}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.validityDays * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
      ...(options.extensions ?? []),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
  return { keyPem, certificatePem: certificate.toString("pem") };
}
