import { CloisterError } from "../../common/errors.ts";
import { capModuleMemory } from "../sandbox/wasm-memory-cap.ts";
import type { ImportedMemoryLimits } from "../sandbox/wasm-memory-cap.ts";

/** The host functions a module may import from `env`: Teaclave's WAMR file interface. */
export const teaclaveImports = [
  "teaclave_open_input",
  "teaclave_create_output",
  "teaclave_read_file",
  "teaclave_write_file",
  "teaclave_close_file",
] as const;

/** A compiled module that passed the capability and memory checks. */
export interface PreparedModule {
  readonly module: WebAssembly.Module;
  /** Set when the module imports `env.memory`, which the host then supplies with these limits. */
  readonly importedMemory: ImportedMemoryLimits | undefined;
}

/**
 * Compiles a function's WebAssembly payload after capping its memory at `maxPages`, and
 * checks that it imports nothing but Teaclave's `env` functions (and optionally `env.memory`)
 * and exports `entrypoint` and a memory to copy the arguments into. The import list is the
 * whole capability set of the guest, so any other import is rejected with PERMISSION_DENIED.
 */
export async function prepareModule(
  payload: Uint8Array,
  maxPages: number,
): Promise<PreparedModule> {
  if (payload.length === 0) {
    throw new CloisterError("INVALID_ARGUMENT", "the function has an empty WebAssembly payload");
  }
  const { bytes, importedMemory } = capModuleMemory(payload, maxPages);
  let module: WebAssembly.Module;
  try {
    // The asynchronous compile keeps a large module from blocking the host's event loop.
    module = await WebAssembly.compile(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CloisterError("INVALID_ARGUMENT", `invalid WebAssembly module: ${reason}`);
  }
  checkImports(module);
  checkExports(module, importedMemory !== undefined);
  return { module, importedMemory };
}

function checkImports(module: WebAssembly.Module): void {
  const allowed = new Set<string>(teaclaveImports);
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    const isTeaclaveFunction = from === "env" && kind === "function" && allowed.has(name);
    const isMemory = from === "env" && kind === "memory" && name === "memory";
    if (!isTeaclaveFunction && !isMemory) {
      throw new CloisterError(
        "PERMISSION_DENIED",
        `the module imports ${kind} "${from}.${name}", which is not available; a module may ` +
          `import only the functions env.${teaclaveImports.join(", env.")} and env.memory`,
      );
    }
  }
}

function checkExports(module: WebAssembly.Module, importsMemory: boolean): void {
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((entry) => entry.name === "entrypoint" && entry.kind === "function")) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      "the module does not export the function entrypoint(argc, argv)",
    );
  }
  const exportsMemory = exports.some((entry) => entry.name === "memory" && entry.kind === "memory");
  if (!importsMemory && !exportsMemory) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      'the module neither imports env.memory nor exports its memory as "memory", so its ' +
        "arguments cannot be copied in",
    );
  }
}
