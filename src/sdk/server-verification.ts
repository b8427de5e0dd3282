import { X509Certificate } from "node:crypto";
import { timingSafeEqual } from "node:crypto";
import { CloisterError } from "../common/errors.ts";
import type { ServerVerifier } from "../transport/rpc-client.ts";

/**
 * A verifier that accepts exactly one certificate, given in PEM: the platform's API
 * certificate as its operator published it.
 */
export function pinnedCertificateVerifier(certificatePem: string): ServerVerifier {
  const expected = new X509Certificate(certificatePem).raw;
  return (certificate) => {
    const actual = certificate.raw;
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new CloisterError(
        "PERMISSION_DENIED",
        "server certificate does not match the pinned one",
      );
    }
  };
}
