import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { FileCrypto } from "../files/file-crypto.ts";
import { decryptLocalFile, encryptLocalFile, newFileCrypto } from "./party.ts";
import type { Party } from "./party.ts";

/** The demo's folders for each party's files and its progress output. */
export interface DemoContext {
  readonly dataDirectory: string;
  readonly workDirectory: string;
  readonly report: (line: string) => void;
}

interface RegisteredFiles {
  readonly inputId: string;
  readonly outputId: string;
  readonly outputCrypto: FileCrypto;
  readonly outputPath: string;
}

/** Encrypts one party's file on its side and registers it with a fresh output. */
async function registerPartyFiles(
  context: DemoContext,
  party: Party,
  plaintextName: string,
): Promise<RegisteredFiles> {
  const plaintextPath = join(context.workDirectory, `${party.id}-${plaintextName}`);
  await copyFile(join(context.dataDirectory, plaintextName), plaintextPath);
  const inputCrypto = newFileCrypto("teaclave-file-128");
  const encryptedPath = `${plaintextPath}.enc`;
  const cmac = await encryptLocalFile(inputCrypto, plaintextPath, encryptedPath);
  const inputId = await party.frontend.registerInputFile(
    pathToFileURL(encryptedPath).href,
    cmac,
    inputCrypto,
  );
  const outputCrypto = newFileCrypto("aes-gcm-256");
  const outputPath = join(context.workDirectory, `${party.id}-${plaintextName}.result.enc`);
  const outputId = await party.frontend.registerOutputFile(
    pathToFileURL(outputPath).href,
    outputCrypto,
  );
  context.report(`  ${party.id}: encrypted ${plaintextName} locally, registered ${inputId}`);
  return { inputId, outputId, outputCrypto, outputPath };
}

/**
 * Teaclave's three-bank private join and compute: each bank learns the sums of the
 * identities that all banks share, and nothing else of the others' data.
 */
export async function runPrivateJoinAndCompute(
  context: DemoContext,
  functionOwner: Party,
  banks: readonly [Party, Party, Party],
): Promise<Record<string, string>> {
  context.report("Private join and compute, three banks");
  const inputNames = banks.map((_, index) => `input_data${index}`);
  const outputNames = banks.map((_, index) => `output_data${index}`);
  const functionId = await functionOwner.frontend.registerFunction({
    name: "builtin-private-join-and-compute",
    description: "Sum the amounts of the identities that every bank has",
    executorType: "builtin",
    public: true,
    arguments: [{ key: "num_user", defaultValue: "", allowOverwrite: true }],
    inputs: inputNames.map((name) => ({ name, description: "", optional: false })),
    outputs: outputNames.map((name) => ({ name, description: "", optional: false })),
  });
  context.report(`  ${functionOwner.id}: registered ${functionId}`);

  const files = await Promise.all(
    banks.map((bank, index) => registerPartyFiles(context, bank, `bank_${"abc"[index]}.txt`)),
  );
  const [creator] = banks;
  const taskId = await creator.frontend.createTask({
    functionId,
    arguments: { num_user: 3 },
    inputsOwnership: Object.fromEntries(
      banks.map((bank, index) => [inputNames[index]!, [bank.id]]),
    ),
    outputsOwnership: Object.fromEntries(
      banks.map((bank, index) => [outputNames[index]!, [bank.id]]),
    ),
  });
  context.report(`  ${creator.id}: created ${taskId}`);
  for (const [index, bank] of banks.entries()) {
    await bank.frontend.assignData(taskId, {
      inputs: { [inputNames[index]!]: files[index]!.inputId },
      outputs: { [outputNames[index]!]: files[index]!.outputId },
    });
    context.report(`  ${bank.id}: assigned its files to the task`);
  }
  // Approval comes once every slot has its data, so each party approves what it will run on.
  for (const bank of banks) {
    await bank.frontend.approveTask(taskId);
    context.report(`  ${bank.id}: approved the task`);
  }
  await creator.frontend.invokeTask(taskId);
  const outcome = await creator.frontend.waitForTask(taskId);
  context.report(`  task finished: "${outcome.returnValue}"`);

  const results: Record<string, string> = {};
  for (const [index, bank] of banks.entries()) {
    const text = await decryptLocalFile(files[index]!.outputCrypto, files[index]!.outputPath);
    results[bank.id] = text;
    const lines = text.trim().split("\n").sort().join("; ");
    context.report(`  ${bank.id}: decrypted its own result: ${lines}`);
  }
  return results;
}

/** Teaclave's two-party ordered set intersection on psi0.txt and psi1.txt. */
export async function runSetIntersection(
  context: DemoContext,
  functionOwner: Party,
  parties: readonly [Party, Party],
): Promise<Record<string, string>> {
  context.report("Ordered set intersection, two parties");
  const functionId = await functionOwner.frontend.registerFunction({
    name: "builtin-ordered-set-intersect",
    description: "Mark which sorted hashes both parties hold",
    executorType: "builtin",
    public: true,
    arguments: [{ key: "order", defaultValue: "", allowOverwrite: true }],
    inputs: [
      { name: "input_data1", description: "", optional: false },
      { name: "input_data2", description: "", optional: false },
    ],
    outputs: [
      { name: "output_result1", description: "", optional: false },
      { name: "output_result2", description: "", optional: false },
    ],
  });
  const [first, second] = parties;
  const files = [
    await registerPartyFiles(context, first, "psi0.txt"),
    await registerPartyFiles(context, second, "psi1.txt"),
  ];
  const taskId = await first.frontend.createTask({
    functionId,
    arguments: { order: "ascending" },
    inputsOwnership: { input_data1: [first.id], input_data2: [second.id] },
    outputsOwnership: { output_result1: [first.id], output_result2: [second.id] },
  });
  for (const [index, party] of parties.entries()) {
    await party.frontend.assignData(taskId, {
      inputs: { [`input_data${index + 1}`]: files[index]!.inputId },
      outputs: { [`output_result${index + 1}`]: files[index]!.outputId },
    });
  }
  for (const party of parties) await party.frontend.approveTask(taskId);
  await first.frontend.invokeTask(taskId);
  const outcome = await first.frontend.waitForTask(taskId);
  context.report(`  task finished: "${outcome.returnValue}"`);
  const results: Record<string, string> = {};
  for (const [index, party] of parties.entries()) {
    results[party.id] = await decryptLocalFile(
      files[index]!.outputCrypto,
      files[index]!.outputPath,
    );
    context.report(`  ${party.id}: its membership string is ${results[party.id]}`);
  }
  return results;
}
