import { test } from "node:test";
import assert from "node:assert/strict";
import {
  orderChainLeafFirst,
  parseCertificateList,
} from "../../src/attestation/certificate-chain.ts";
import { extractJsonMember } from "../../src/attestation/intel/json-member.ts";
import { readPckExtension, type PckExtension } from "../../src/attestation/intel/pck-extension.ts";
import { parseQuote, type TdReportBody } from "../../src/attestation/intel/quote.ts";
import {
  convergeStatus,
  evaluateSgxTcb,
  evaluateTdxTcb,
} from "../../src/attestation/intel/tcb-evaluation.ts";
import { parseTcbInfo, type TcbInfo, type TcbLevel } from "../../src/attestation/intel/tcb-info.ts";
import { fixtureBytes, fixtureText } from "./fixture-collateral.ts";

test("TDX v5 sample is up to date", () => {
  const quote = parseQuote(fixtureBytes("go-tdx-guest/quote_v5_sample.dat"));
  assert.equal(quote.header.version, 5);
  const body = quote.body;
  assert.equal(body.kind, "td15");
  const chain = orderChainLeafFirst(parseCertificateList(quote.certification.data));
  const pck = readPckExtension(chain[0]!);
  assert.equal(pck.fmspc, "90c06f000000");
  const response = fixtureText("go-tdx-guest/sample_tcbinfo_response_v5");
  const tcbInfo = parseTcbInfo(extractJsonMember(response, "tcbInfo")!);
  assert.equal(tcbInfo.tcbEvaluationDataNumber, 18);
  const evaluation = evaluateTdxTcb(tcbInfo, pck, body.report as TdReportBody, "UpToDate");
  assert.equal(evaluation.status, "UpToDate");
});

test("PCK extension of the go-tdx-guest quote", () => {
  const quote = parseQuote(fixtureBytes("go-tdx-guest/tdx_prod_quote_SPR_E4.dat"));
  const leaf = orderChainLeafFirst(parseCertificateList(quote.certification.data))[0]!;
  const pck = readPckExtension(leaf);
  assert.equal(pck.fmspc, "50806f000000");
  assert.equal(pck.pceId, "0000");
  assert.equal(pck.pceSvn, 11);
  assert.deepEqual(pck.sgxTcbComponents.slice(0, 8), [3, 3, 2, 2, 2, 1, 0, 2]);
  assert.equal(Buffer.from(pck.ppid).toString("hex"), "089ddfdb9c0359c82a3bc7719239574e");
  assert.equal(quote.qeReport.isvSvn, 4);
  assert.equal(quote.qeReport.isvProdId, 2);
});

test("JSON member extraction keeps exact bytes", () => {
  const text = '{ "a" : [1, {"b": "x}"}] ,"tcbInfo":{"k" : "v\\"}" , "n":[ ]},"signature":"00"}';
  assert.equal(extractJsonMember(text, "tcbInfo"), '{"k" : "v\\"}" , "n":[ ]}');
  assert.equal(extractJsonMember(text, "a"), '[1, {"b": "x}"}]');
  assert.equal(extractJsonMember(text, "signature"), '"00"');
  assert.equal(extractJsonMember(text, "missing"), undefined);
});

test("status convergence with QE and module", () => {
  const table: [string, string, string][] = [
    ["UpToDate", "OutOfDate", "OutOfDate"],
    ["SWHardeningNeeded", "OutOfDate", "OutOfDate"],
    ["ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
    ["ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
    ["UpToDate", "Revoked", "Revoked"],
    ["ConfigurationNeeded", "UpToDate", "ConfigurationNeeded"],
  ];
  for (const [platform, component, expected] of table) {
    assert.equal(convergeStatus(platform as never, component as never), expected);
  }
});

// A synthetic TDX TCB info: level 0 needs TDX component 2 at 5, level 1 accepts 3.
function level(status: TcbLevel["status"], tdx2: number, sgx = 1): TcbLevel {
  const tdxComponents = new Array<number>(16).fill(0);
  tdxComponents[0] = 5;
  tdxComponents[2] = tdx2;
  return {
    sgxComponents: new Array<number>(16).fill(sgx),
    pceSvn: 10,
    tdxComponents,
    status,
    advisoryIds: status === "UpToDate" ? [] : ["INTEL-SA-00001"],
  };
}

const zero48 = new Uint8Array(48);
const tcbInfo: TcbInfo = {
  id: "TDX",
  version: 3,
  issueDateMs: 0,
  nextUpdateMs: 1,
  fmspc: "000000000000",
  pceId: "0000",
  tcbEvaluationDataNumber: 1,
  tdxModule: {
    mrSigner: zero48,
    attributes: new Uint8Array(8),
    attributesMask: new Uint8Array(8).fill(0xff),
  },
  tdxModuleIdentities: [
    {
      id: "TDX_01",
      mrSigner: zero48,
      attributes: new Uint8Array(8),
      attributesMask: new Uint8Array(8).fill(0xff),
      levels: [
        { isvSvn: 6, status: "UpToDate", advisoryIds: [] },
        { isvSvn: 2, status: "OutOfDate", advisoryIds: ["INTEL-SA-00002"] },
      ],
    },
  ],
  levels: [level("UpToDate", 5), level("OutOfDate", 3)],
};

const pck: PckExtension = {
  ppid: new Uint8Array(16),
  sgxTcbComponents: new Array<number>(16).fill(2),
  pceSvn: 13,
  cpuSvn: new Uint8Array(16),
  pceId: "0000",
  fmspc: "000000000000",
};

function tdReport(svn: number[], svn2?: number[]): TdReportBody {
  const teeTcbSvn = new Uint8Array(16);
  teeTcbSvn.set(svn);
  const raw = new Uint8Array(648);
  return {
    raw,
    teeTcbSvn,
    mrSeam: zero48,
    mrSignerSeam: zero48,
    seamAttributes: new Uint8Array(8),
    tdAttributes: new Uint8Array(8),
    xfam: new Uint8Array(8),
    mrTd: zero48,
    mrConfigId: zero48,
    mrOwner: zero48,
    mrOwnerConfig: zero48,
    rtmrs: [zero48, zero48, zero48, zero48],
    reportData: new Uint8Array(64),
    ...(svn2
      ? { teeTcbSvn2: Uint8Array.from([...svn2, ...new Array<number>(16 - svn2.length).fill(0)]) }
      : {}),
  };
}

test("TDX module identity decides the status", () => {
  assert.equal(evaluateTdxTcb(tcbInfo, pck, tdReport([6, 1, 5]), "UpToDate").status, "UpToDate");
  const outdatedModule = evaluateTdxTcb(tcbInfo, pck, tdReport([3, 1, 5]), "UpToDate");
  assert.equal(outdatedModule.status, "OutOfDate");
  assert.deepEqual(outdatedModule.advisoryIds, ["INTEL-SA-00002"]);
  assert.throws(() => evaluateTdxTcb(tcbInfo, pck, tdReport([1, 1, 5]), "UpToDate"), {
    code: "TCB_NOT_SUPPORTED",
  });
  assert.throws(() => evaluateTdxTcb(tcbInfo, pck, tdReport([6, 3, 5]), "UpToDate"), {
    code: "TDX_MODULE_MISMATCH",
  });
  assert.throws(() => evaluateTdxTcb(tcbInfo, pck, tdReport([6, 1, 2]), "UpToDate"), {
    code: "TCB_NOT_SUPPORTED",
  });
});

test("TD relaunch advised after a module update", () => {
  // Running module caught up (SVN2 ISVSVN 6 and component 2 at 5): relaunch fixes it.
  const caughtUp = evaluateTdxTcb(tcbInfo, pck, tdReport([3, 1, 3], [6, 1, 5]), "UpToDate");
  assert.equal(caughtUp.status, "TDRelaunchAdvised");
  const behind = evaluateTdxTcb(tcbInfo, pck, tdReport([3, 1, 3], [5, 1, 5]), "UpToDate");
  assert.equal(behind.status, "OutOfDate");
  const qeOutdated = evaluateTdxTcb(tcbInfo, pck, tdReport([3, 1, 3], [6, 1, 5]), "OutOfDate");
  assert.equal(qeOutdated.status, "OutOfDate");
  const configInfo: TcbInfo = {
    ...tcbInfo,
    levels: [level("UpToDate", 5), level("ConfigurationNeeded", 3)],
  };
  const config = evaluateTdxTcb(configInfo, pck, tdReport([3, 1, 3], [6, 1, 5]), "UpToDate");
  assert.equal(config.status, "TDRelaunchAdvisedConfigurationNeeded");
});

test("SGX level needs every component and PCESVN", () => {
  const sgxInfo: TcbInfo = {
    ...tcbInfo,
    id: "SGX",
    levels: [level("UpToDate", 0, 3), level("SWHardeningNeeded", 0, 2)],
  };
  assert.equal(evaluateSgxTcb(sgxInfo, pck).status, "SWHardeningNeeded");
  const lowPce = { ...pck, pceSvn: 9 };
  assert.throws(() => evaluateSgxTcb(sgxInfo, lowPce), { code: "TCB_NOT_SUPPORTED" });
  const oneLow = { ...pck, sgxTcbComponents: [...pck.sgxTcbComponents.slice(0, 15), 1] };
  assert.throws(() => evaluateSgxTcb(sgxInfo, oneLow), { code: "TCB_NOT_SUPPORTED" });
});
