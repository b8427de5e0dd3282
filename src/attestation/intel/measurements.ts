import { toHex } from "../bytes.ts";
import type { SgxMeasurements, TdxMeasurements } from "../verdict.ts";
import type { SgxReportBody, TdReportBody } from "./quote.ts";

/** Tells whether ATTRIBUTES has the DEBUG flag (bit 1 of the flags). */
export function isSgxDebug(report: SgxReportBody): boolean {
  return (report.attributes[0]! & 0x02) !== 0;
}

/** Tells whether TDATTRIBUTES has the DEBUG bit (bit 0). */
export function isTdDebug(report: TdReportBody): boolean {
  return (report.tdAttributes[0]! & 0x01) !== 0;
}

export function sgxMeasurements(report: SgxReportBody): SgxMeasurements {
  return {
    mrEnclave: toHex(report.mrEnclave),
    mrSigner: toHex(report.mrSigner),
    isvProdId: report.isvProdId,
    isvSvn: report.isvSvn,
    configSvn: report.configSvn,
    cpuSvn: toHex(report.cpuSvn),
    miscSelect: toHex(report.miscSelect),
    attributes: toHex(report.attributes),
    configId: toHex(report.configId),
    isvFamilyId: toHex(report.isvFamilyId),
    isvExtProdId: toHex(report.isvExtProdId),
    debug: isSgxDebug(report),
  };
}

export function tdxMeasurements(report: TdReportBody): TdxMeasurements {
  const [rtmr0, rtmr1, rtmr2, rtmr3] = report.rtmrs;
  return {
    mrTd: toHex(report.mrTd),
    rtmrs: [toHex(rtmr0), toHex(rtmr1), toHex(rtmr2), toHex(rtmr3)],
    mrSeam: toHex(report.mrSeam),
    mrSignerSeam: toHex(report.mrSignerSeam),
    mrConfigId: toHex(report.mrConfigId),
    mrOwner: toHex(report.mrOwner),
    mrOwnerConfig: toHex(report.mrOwnerConfig),
    teeTcbSvn: toHex(report.teeTcbSvn),
    tdAttributes: toHex(report.tdAttributes),
    seamAttributes: toHex(report.seamAttributes),
    xfam: toHex(report.xfam),
    ...(report.teeTcbSvn2 ? { teeTcbSvn2: toHex(report.teeTcbSvn2) } : {}),
    ...(report.mrServiceTd ? { mrServiceTd: toHex(report.mrServiceTd) } : {}),
    debug: isTdDebug(report),
  };
}
