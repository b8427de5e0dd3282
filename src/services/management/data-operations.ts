import { randomUUID } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import { parseDataId, parseId } from "../../common/ids.ts";
import { generateFileCrypto, parseFileCrypto } from "../../files/file-crypto.ts";
import { validateFileUrl } from "../../files/index.ts";
import type { FileCryptoInfo } from "../../gen/teaclave_common_pb.ts";
import { TaskStatus } from "../../gen/teaclave_common_pb.ts";
import { recordKeys } from "../../storage/records.ts";
import type { DataRecord, TaskRecord } from "../../storage/records.ts";
import { deleteRecord, readRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import type { Caller } from "../caller.ts";
import type { ManagementContext } from "./management-context.ts";
import { auditEntry, permissionDenied, requireData } from "./management-context.ts";
import { dataUuid, sealFileCrypto, unsealFileCrypto } from "./sealed-crypto.ts";

const cmacBytes = 16;

/** Builds the URL of a fusion output, which lives under the executors' fusion base directory. */
function fusionUrl(uuid: string): string {
  return `fusion:///TEACLAVE_FUSION_BASE/${uuid}.fusion`;
}

function requireCryptoInfo(info: FileCryptoInfo | undefined): FileCryptoInfo {
  if (info === undefined) {
    throw new CloisterError("INVALID_ARGUMENT", "crypto_info is missing: give schema, key and iv");
  }
  return info;
}

async function createData(
  context: ManagementContext,
  caller: Caller,
  record: DataRecord,
): Promise<void> {
  await context.storage.commit({
    writes: [writeRecord(recordKeys.data(record.id), record)],
    audit: [auditEntry(caller, `register ${record.kind} ${record.id}`)],
  });
}

export async function registerInputFile(
  context: ManagementContext,
  caller: Caller,
  request: { url: string; cmac: Uint8Array; cryptoInfo?: FileCryptoInfo | undefined },
): Promise<string> {
  validateFileUrl(request.url, "input");
  if (request.cmac.length !== cmacBytes) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid cmac: expected ${cmacBytes} bytes, got ${request.cmac.length}`,
    );
  }
  const crypto = parseFileCrypto(requireCryptoInfo(request.cryptoInfo), "input");
  const uuid = randomUUID();
  const id = `input-${uuid}`;
  await createData(context, caller, {
    id,
    kind: "input",
    url: request.url,
    cmac: Buffer.from(request.cmac).toString("hex"),
    sealedCrypto: sealFileCrypto(context.platformKey, uuid, crypto),
    owners: [caller.userId],
    fusion: false,
    taskId: null,
  });
  return id;
}

export async function registerOutputFile(
  context: ManagementContext,
  caller: Caller,
  request: { url: string; cryptoInfo?: FileCryptoInfo | undefined },
): Promise<string> {
  validateFileUrl(request.url, "output");
  const crypto = parseFileCrypto(requireCryptoInfo(request.cryptoInfo), "output");
  const uuid = randomUUID();
  const id = `output-${uuid}`;
  await createData(context, caller, {
    id,
    kind: "output",
    url: request.url,
    cmac: null,
    sealedCrypto: sealFileCrypto(context.platformKey, uuid, crypto),
    owners: [caller.userId],
    fusion: false,
    taskId: null,
  });
  return id;
}

/**
 * Registers the same file at a new URL under a new id, as Teaclave does; the old
 * registration stays. Only a sole owner may do this.
 */
export async function updateDataUrl(
  context: ManagementContext,
  caller: Caller,
  kind: "input" | "output",
  dataId: string,
  url: string,
): Promise<string> {
  parseId(dataId, kind, "data_id");
  validateFileUrl(url, kind);
  const current = await requireData(context, dataId);
  if (current.value.owners.length !== 1 || current.value.owners[0] !== caller.userId) {
    throw permissionDenied(`only the sole owner of ${dataId} may update it`);
  }
  const uuid = randomUUID();
  const id = `${kind}-${uuid}`;
  // The crypto info is sealed to the record's uuid, so it is sealed again for the new one.
  const crypto = unsealFileCrypto(
    context.platformKey,
    dataUuid(dataId),
    current.value.sealedCrypto,
  );
  await createData(context, caller, {
    ...current.value,
    id,
    url,
    cmac: kind === "input" ? current.value.cmac : null,
    sealedCrypto: sealFileCrypto(context.platformKey, uuid, crypto),
    taskId: null,
  });
  return id;
}

export async function registerFusionOutput(
  context: ManagementContext,
  caller: Caller,
  ownerList: readonly string[],
): Promise<string> {
  const owners = [...new Set(ownerList)];
  if (owners.length < 2) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "a fusion output needs at least two distinct owners in owner_list",
    );
  }
  if (!owners.includes(caller.userId)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `owner_list must include the caller ${caller.userId}`,
    );
  }
  for (const owner of owners) {
    if ((await context.storage.get(recordKeys.user(owner))) === undefined) {
      throw new CloisterError(
        "NOT_FOUND",
        `owner ${JSON.stringify(owner)} of the fusion output not found`,
      );
    }
  }
  const uuid = randomUUID();
  const id = `output-${uuid}`;
  await createData(context, caller, {
    id,
    kind: "output",
    url: fusionUrl(uuid),
    cmac: null,
    sealedCrypto: sealFileCrypto(
      context.platformKey,
      uuid,
      generateFileCrypto("teaclave-file-128"),
    ),
    owners,
    fusion: true,
    taskId: null,
  });
  return id;
}

/** Turns a written output into an input with the same uuid, owners, URL, cmac and key. */
export async function registerInputFromOutput(
  context: ManagementContext,
  caller: Caller,
  outputId: string,
): Promise<string> {
  parseId(outputId, "output", "data_id");
  const output = await requireData(context, outputId);
  if (!output.value.owners.includes(caller.userId)) {
    throw permissionDenied(`you are not an owner of ${outputId}`);
  }
  if (output.value.cmac === null) {
    throw new CloisterError(
      "FAILED_PRECONDITION",
      `output ${outputId} has not been written yet: wait until its task has finished`,
    );
  }
  const id = `input-${dataUuid(outputId)}`;
  const existing = await readRecord<DataRecord>(context.storage, recordKeys.data(id));
  if (existing !== undefined) return id;
  await createData(context, caller, { ...output.value, id, kind: "input", taskId: null });
  return id;
}

export async function getData(
  context: ManagementContext,
  caller: Caller,
  kind: "input" | "output",
  dataId: string,
): Promise<{ owner: string[]; cmac: Uint8Array }> {
  parseId(dataId, kind, "data_id");
  const data = await requireData(context, dataId);
  if (!data.value.owners.includes(caller.userId)) {
    throw permissionDenied(`you are not an owner of ${dataId}`);
  }
  return {
    owner: [...data.value.owners],
    cmac: data.value.cmac === null ? new Uint8Array(0) : Buffer.from(data.value.cmac, "hex"),
  };
}

/**
 * Deletes a data registration (the file at its URL stays). The caller must own it, and no
 * task that has not ended may use it.
 */
export async function deleteData(
  context: ManagementContext,
  caller: Caller,
  kind: "input" | "output",
  dataId: string,
): Promise<void> {
  parseDataId(dataId, "data_id");
  parseId(dataId, kind, "data_id");
  await retryOnConflict(async () => {
    const data = await requireData(context, dataId);
    if (!data.value.owners.includes(caller.userId)) {
      throw permissionDenied(`you are not an owner of ${dataId}`);
    }
    if (data.value.taskId !== null) {
      const task = await readRecord<TaskRecord>(
        context.storage,
        recordKeys.task(data.value.taskId),
      );
      const active =
        task !== undefined &&
        task.value.status !== TaskStatus.Finished &&
        task.value.status !== TaskStatus.Failed &&
        task.value.status !== TaskStatus.Canceled;
      if (active) {
        throw new CloisterError(
          "FAILED_PRECONDITION",
          `${dataId} is used by task ${data.value.taskId}: cancel or finish the task first`,
        );
      }
    }
    await context.storage.commit({
      writes: [deleteRecord(recordKeys.data(dataId), data)],
      audit: [auditEntry(caller, `delete ${kind} ${dataId}`)],
    });
  });
}
