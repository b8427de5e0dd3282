import { CloisterError } from "../../common/errors.ts";
import type { FunctionRuntime } from "../../functions/runtime.ts";

/**
 * The host side of the file bridge between a runtime and a sandbox. A sandboxed guest calls
 * its file API synchronously, but the runtime's API is asynchronous. So the host reads every
 * granted input before the run and hands the bytes to the sandbox. The sandbox returns the
 * bytes of each output it created, and the host writes them after the run.
 */

/** The granted inputs of one run, by slot, and the output slots it may create. */
export interface StagedFiles {
  readonly inputs: Record<string, Uint8Array>;
  readonly outputNames: string[];
}

/** An output the guest created, with all its bytes, in the order the guest created them. */
export interface GuestOutput {
  readonly slot: string;
  readonly data: Uint8Array;
}

/**
 * Reads every granted input. Raises RESOURCE_EXHAUSTED when the inputs together exceed
 * `maxBytes`, because they are copied into the sandbox, and passes on the runtime's errors
 * (INTEGRITY for a file that fails its tag check).
 *
 * NOTE: inputs the function never opens are read too, and an input larger than the memory
 * limit fails the run even if the function would read only part of it.
 */
export async function stageInputs(
  runtime: FunctionRuntime,
  maxBytes: number,
): Promise<StagedFiles> {
  const inputs: Record<string, Uint8Array> = {};
  let total = 0;
  for (const slot of runtime.inputNames) {
    const input = await runtime.openInput(slot);
    total += input.size;
    if (total > maxBytes) {
      throw new CloisterError(
        "RESOURCE_EXHAUSTED",
        `the inputs of this run exceed ${maxBytes} bytes, the memory limit of the sandbox ` +
          `they are copied into; raise memoryBytes`,
      );
    }
    inputs[slot] = await input.readAll();
  }
  return { inputs, outputNames: [...runtime.outputNames] };
}

/** Creates each output the guest created and writes its bytes. */
export async function commitOutputs(
  runtime: FunctionRuntime,
  outputs: readonly GuestOutput[],
): Promise<void> {
  for (const { slot, data } of outputs) {
    const output = await runtime.createOutput(slot);
    if (data.length > 0) await output.write(data);
    await output.close();
  }
}
