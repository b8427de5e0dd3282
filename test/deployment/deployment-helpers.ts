import { Writable } from "node:stream";
import { join } from "node:path";
import { pino } from "pino";
import type { Logger } from "../../src/common/logger.ts";
import { SimulationEvidenceProvider } from "../../src/attestation/index.ts";
import type { EvidenceProvider } from "../../src/attestation/index.ts";
import { AttestedIdentity } from "../../src/platform/attested-identity.ts";
import type { EndpointAddress } from "../../src/platform/deployment-plan.ts";
import { simulatedServiceMeasurement } from "../../src/platform/service-identities.ts";
import { internalEndpointNames } from "../../src/platform/service-topology.ts";
import type { InternalEndpointName, ServiceName } from "../../src/platform/service-topology.ts";
import { freePort } from "../helpers/serve-process.ts";

/** A pino logger whose JSON lines the test can read. */
export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  /** Returns the entries with message `message`. */
  find(message: string): Record<string, unknown>[];
}

export function captureLogger(): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = pino({ level: process.env["CLOISTER_TEST_LOG"] ?? "debug" }, stream);
  return { logger, lines, find: (message) => lines.filter((line) => line["msg"] === message) };
}

/** Returns loopback addresses on free ports for every internal endpoint. */
export async function freeEndpoints(): Promise<Record<InternalEndpointName, EndpointAddress>> {
  const endpoints = {} as Record<InternalEndpointName, EndpointAddress>;
  for (const name of internalEndpointNames) {
    endpoints[name] = { host: "127.0.0.1", port: await freePort() };
  }
  return endpoints;
}

/** Creates the internal identity a service of this build has in `dataDirectory`. */
export function serviceIdentity(
  dataDirectory: string,
  service: ServiceName,
  overrides: { measurement?: Uint8Array; clock?: () => Date } = {},
): Promise<AttestedIdentity> {
  const provider: EvidenceProvider = new SimulationEvidenceProvider({
    dataDirectory: join(dataDirectory, "attestation"),
    measurement: overrides.measurement ?? Buffer.from(simulatedServiceMeasurement(service), "hex"),
    ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
  });
  return AttestedIdentity.create(provider, service);
}
