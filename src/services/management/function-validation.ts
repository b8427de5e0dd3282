import { CloisterError } from "../../common/errors.ts";
import { builtinFunctions } from "../../functions/builtin/registry.ts";
import type {
  FunctionArgument,
  FunctionInput,
  FunctionOutput,
} from "../../gen/teaclave_frontend_service_pb.ts";
import type {
  FunctionArgumentRecord,
  FunctionRecord,
  FunctionSlotRecord,
} from "../../storage/records.ts";

/** Executor types a function may declare, with the task executor that runs each. */
export const executorForType: Readonly<Record<string, string>> = {
  builtin: "builtin",
  python: "mesapy",
  wamr: "wamr",
  javascript: "javascript",
};

/** Maximum size of a function's payload; larger code should be split or compressed. */
export const maxPayloadBytes = 3 * 1024 * 1024;

const namePattern = /^[A-Za-z0-9_.\-]{1,128}$/;

/** The fields of a register or update request, in Teaclave's message shape. */
export interface FunctionDefinition {
  name: string;
  description: string;
  executorType: string;
  public: boolean;
  payload: Uint8Array;
  arguments: FunctionArgument[];
  inputs: FunctionInput[];
  outputs: FunctionOutput[];
  userAllowlist: string[];
  usageQuota: number;
}

/** Validates a function definition and returns the record fields it defines. */
export function validateFunctionDefinition(
  definition: FunctionDefinition,
): Omit<FunctionRecord, "id" | "owner" | "disabled"> {
  const { name, executorType } = definition;
  if (!namePattern.test(name)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid function name ${JSON.stringify(name.slice(0, 140))}: use 1 to 128 letters, ` +
        "digits, '_', '.' or '-'",
    );
  }
  if (executorForType[executorType] === undefined) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid executor_type ${JSON.stringify(executorType)}: expected one of ` +
        Object.keys(executorForType).join(", "),
    );
  }
  if (executorType === "builtin" && !builtinFunctions.has(name)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `no built-in function is named ${JSON.stringify(name)}: pick one of ` +
        [...builtinFunctions.keys()].join(", "),
    );
  }
  if (executorType !== "builtin" && definition.payload.length === 0) {
    throw new CloisterError("INVALID_ARGUMENT", `a ${executorType} function needs a payload`);
  }
  if (definition.payload.length > maxPayloadBytes) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `payload of ${definition.payload.length} bytes exceeds the limit of ${maxPayloadBytes}`,
    );
  }
  checkPayload(executorType, definition.payload);
  return {
    name,
    description: definition.description,
    executorType,
    public: definition.public,
    payload: Buffer.from(definition.payload).toString("base64"),
    arguments: validateArguments(definition.arguments),
    inputs: validateSlots("input", definition.inputs),
    outputs: validateSlots("output", definition.outputs),
    userAllowlist: [...new Set(definition.userAllowlist)],
    usageQuota: definition.usageQuota < 0 ? null : definition.usageQuota,
  };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Rejects a payload that its executor could never run, so that the owner learns it at
 * registration rather than from a failed task: WebAssembly that does not validate, and
 * Python or JavaScript source that is not UTF-8.
 */
function checkPayload(executorType: string, payload: Uint8Array): void {
  if (executorType === "wamr" && !WebAssembly.validate(payload)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "invalid payload for a wamr function: not a valid WebAssembly module; register the " +
        "compiled .wasm file (it starts with the bytes 00 61 73 6d)",
    );
  }
  if (executorType === "python" || executorType === "javascript") {
    try {
      strictUtf8.decode(payload);
    } catch {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `invalid payload for a ${executorType} function: the source is not valid UTF-8`,
      );
    }
  }
}

function validateArguments(list: readonly FunctionArgument[]): FunctionArgumentRecord[] {
  const seen = new Set<string>();
  return list.map((argument) => {
    if (argument.key === "" || seen.has(argument.key)) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `invalid argument key ${JSON.stringify(argument.key)}: keys must be non-empty and unique`,
      );
    }
    seen.add(argument.key);
    return {
      key: argument.key,
      defaultValue: argument.defaultValue,
      allowOverwrite: argument.allowOverwrite,
    };
  });
}

function validateSlots(
  kind: string,
  list: readonly (FunctionInput | FunctionOutput)[],
): FunctionSlotRecord[] {
  const seen = new Set<string>();
  return list.map((slot) => {
    if (!namePattern.test(slot.name) || seen.has(slot.name)) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `invalid ${kind} name ${JSON.stringify(slot.name)}: names must be unique and use ` +
          "letters, digits, '_', '.' or '-'",
      );
    }
    seen.add(slot.name);
    return { name: slot.name, description: slot.description, optional: slot.optional };
  });
}
