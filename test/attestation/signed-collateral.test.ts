import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SignedCollateral } from "../../src/attestation/intel/collateral.ts";
import { signedCollateralFromPcs } from "../../src/attestation/intel/collateral.ts";
import { verifySignedCollateral } from "../../src/attestation/intel/verify-collateral.ts";
import { trustAnchorKeys, INTEL_SGX_ROOT_CA_KEY } from "../../src/attestation/trust-anchors.ts";
import { fixtureBytes, fixtureText, fortanixSigned } from "./fixture-collateral.ts";

const root = new X509Certificate(fixtureBytes("automata-dcap/intel_sgx_root_ca.der"));
const signing2025 = new X509Certificate(fixtureBytes("automata-dcap/intel_sgx_tcb_signing.der"));
const chain2025 = [signing2025, root];

function pcs(path: string, member: "tcbInfo" | "enclaveIdentity"): SignedCollateral {
  return signedCollateralFromPcs(fixtureText(path), member, chain2025);
}

/** A Fortanix wrapper whose chain holds only the signing certificate: add the root. */
function fortanixWithRoot(path: string): SignedCollateral {
  const signed = fortanixSigned(path, "raw_tcb_info");
  return { ...signed, issuerChain: [...signed.issuerChain, root] };
}

function verifyAt(collateral: SignedCollateral, now: string): string | undefined {
  try {
    verifySignedCollateral(
      collateral,
      "collateral",
      trustAnchorKeys([INTEL_SGX_ROOT_CA_KEY]),
      undefined,
      Date.parse(now),
      { notBefore: -Infinity, notAfter: Infinity },
    );
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

// Signed collateral of the fixtures whose signature the README states verifies (or fails).
const cases: readonly [string, () => SignedCollateral, string, string | undefined][] = [
  [
    "go-tdx-guest v5 TCB info, 2025 signing cert",
    () => pcs("go-tdx-guest/sample_tcbinfo_response_v5", "tcbInfo"),
    "2026-02-03T01:00:00Z",
    undefined,
  ],
  [
    "go-tdx-guest v5 TCB info, expired 2018 signing cert",
    () =>
      signedCollateralFromPcs(
        fixtureText("go-tdx-guest/sample_tcbinfo_response_v5"),
        "tcbInfo",
        fixtureText("go-tdx-guest/tcbinfo_issuer_chain.pem"),
      ),
    "2026-02-03T01:00:00Z",
    "CERT_EXPIRED",
  ],
  [
    "Fortanix eval 19 SGX TCB info 00906ed50000",
    () => fortanixWithRoot("fortanix-rust-sgx/00906ed50000-19.tcb"),
    "2025-06-05T00:00:00Z",
    undefined,
  ],
  [
    "Fortanix eval 19 SGX TCB info 90806f000000",
    () => fortanixWithRoot("fortanix-rust-sgx/90806f000000-19.tcb"),
    "2025-08-09T00:00:00Z",
    undefined,
  ],
  [
    "PCS SGX TCB info 2026",
    () => pcs("fortanix-rust-sgx/tcb-json_tcb-sgx.json", "tcbInfo"),
    "2026-03-01T00:00:00Z",
    undefined,
  ],
  [
    "PCS TDX TCB info 2026",
    () => pcs("fortanix-rust-sgx/tcb-json_tcb-tdx.json", "tcbInfo"),
    "2026-03-01T00:00:00Z",
    undefined,
  ],
  [
    "PCS TDX TCB info 2026, second",
    () => pcs("fortanix-rust-sgx/tcb-json_tcb-tdx-2.json", "tcbInfo"),
    "2026-03-02T00:00:00Z",
    undefined,
  ],
  [
    "PCS QE identity 2026",
    () => pcs("fortanix-rust-sgx/qe-identity_qeid-sgx.json", "enclaveIdentity"),
    "2026-01-08T00:00:00Z",
    undefined,
  ],
  [
    "PCS TD QE identity 2026",
    () => pcs("fortanix-rust-sgx/qe-identity_qeid-tdx.json", "enclaveIdentity"),
    "2026-01-08T00:00:00Z",
    undefined,
  ],
  [
    "Fortanix corrupted TCB info",
    () => fortanixSigned("fortanix-rust-sgx/corrupted_00906ea10000.tcb", "raw_tcb_info"),
    "2020-05-20T00:00:00Z",
    "COLLATERAL_SIGNATURE_INVALID",
  ],
  [
    "Fortanix corrupted QE identity",
    () => fortanixSigned("fortanix-rust-sgx/corrupted_qe3_identity.id", "raw_enclave_identity"),
    "2020-05-20T00:00:00Z",
    "COLLATERAL_SIGNATURE_INVALID",
  ],
];

for (const [name, load, now, code] of cases) {
  test(`signed collateral: ${name}`, () => {
    assert.equal(verifyAt(load(), now), code);
  });
}

test("signed collateral: re-serialised JSON fails", () => {
  const collateral = pcs("fortanix-rust-sgx/tcb-json_tcb-sgx.json", "tcbInfo");
  const reserialised = {
    ...collateral,
    body: JSON.stringify(JSON.parse(collateral.body), null, 2),
  };
  assert.equal(verifyAt(reserialised, "2026-03-01T00:00:00Z"), "COLLATERAL_SIGNATURE_INVALID");
});
