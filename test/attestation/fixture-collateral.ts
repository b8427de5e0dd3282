// Loads the attestation fixtures into the verifier's input types, one function per source.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parsePemCertificates } from "../../src/attestation/certificate-chain.ts";
import {
  decodeCollateralSignature,
  intelCollateralFromBundle,
  parseIssuerChain,
  signedCollateralFromPcs,
  type IntelCollateral,
  type SignedCollateral,
} from "../../src/attestation/intel/collateral.ts";
import { attestationFixture } from "../helpers/fixtures.ts";

export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(attestationFixture(path)));
}

export function fixtureText(path: string): string {
  return readFileSync(attestationFixture(path), "utf8");
}

export function phalaCollateral(name: string): IntelCollateral {
  return intelCollateralFromBundle(fixtureText(`phala-dcap-qvl/${name}`));
}

export function goTdxGuestCollateral(): IntelCollateral {
  const chain = fixtureText("go-tdx-guest/tcbinfo_issuer_chain.pem");
  return {
    tcbInfo: signedCollateralFromPcs(
      fixtureText("go-tdx-guest/sample_tcbInfo_response"),
      "tcbInfo",
      chain,
    ),
    qeIdentity: signedCollateralFromPcs(
      fixtureText("go-tdx-guest/sample_qeIdentity_response"),
      "enclaveIdentity",
      chain,
    ),
    pckCrl: fixtureBytes("go-tdx-guest/pckcrl"),
    rootCaCrl: fixtureBytes("go-tdx-guest/rootcrl.der"),
  };
}

/** Reads Fortanix's `{raw_*, signature (DER byte array), ca_chain}` wrapper. */
export function fortanixSigned(path: string, member: string): SignedCollateral {
  const wrapper = JSON.parse(fixtureText(path)) as Record<string, unknown>;
  const chain = wrapper["ca_chain"];
  return {
    body: wrapper[member] as string,
    signature: decodeCollateralSignature(wrapper["signature"], member),
    issuerChain: parseIssuerChain(Array.isArray(chain) ? chain.join("\n") : String(chain), member),
  };
}

export function fortanixCollateral(): IntelCollateral {
  const crl = JSON.parse(fixtureText("fortanix-rust-sgx/processor.crl")) as { crl: string };
  return {
    tcbInfo: fortanixSigned("fortanix-rust-sgx/00906ea10000.tcb", "raw_tcb_info"),
    qeIdentity: fortanixSigned("fortanix-rust-sgx/qe3_identity.id", "raw_enclave_identity"),
    pckCrl: crl.crl,
  };
}

export function intelSampleCollateral(tee: "sgx" | "tdx"): IntelCollateral {
  const dir = `intel-qvl-sampledata/${tee}`;
  const signingChain = fixtureText(`${dir}/tcbSignChain.pem`);
  return {
    tcbInfo: signedCollateralFromPcs(fixtureText(`${dir}/tcbInfo.json`), "tcbInfo", signingChain),
    qeIdentity: signedCollateralFromPcs(
      fixtureText(`${dir}/qeIdentity.json`),
      "enclaveIdentity",
      signingChain,
    ),
    pckCrl: fixtureBytes(`${dir}/intermediateCaCrl.der`),
    rootCaCrl: fixtureBytes(`${dir}/rootCaCrl.der`),
    ...(tee === "sgx"
      ? {
          pckChain: [
            ...parsePemCertificates(fixtureText(`${dir}/pckCert.pem`)),
            ...parsePemCertificates(fixtureText(`${dir}/pckSignChain.pem`)),
          ],
        }
      : {}),
  };
}

export function intelSampleRoot(tee: "sgx" | "tdx"): X509Certificate {
  return new X509Certificate(fixtureText(`intel-qvl-sampledata/${tee}/trustedRootCaCert.pem`));
}

export function snpChain(name: string): X509Certificate[] {
  return parsePemCertificates(fixtureText(`go-sev-guest/${name}`));
}
