import { GuestFileError } from "../sandbox/guest-files.ts";
import type { GuestFiles } from "../sandbox/guest-files.ts";

/** Maximum length of a slot name, in bytes, that the host reads from guest memory. */
const maxSlotNameBytes = 4096;

/**
 * Builds Teaclave's `env` file functions over `files`. Each returns -1 on any error, as
 * WAMR's natives did: an unknown or ungranted slot, a bad handle, a pointer outside the
 * module's memory, writing to an input, reading an output or an output past its limit.
 * `memory` is read at every call because growing the memory replaces its buffer. It is
 * undefined while a start function runs, before the module's own memory is known.
 */
export function createTeaclaveEnv(
  files: GuestFiles,
  memory: () => WebAssembly.Memory | undefined,
): Record<string, (...args: number[]) => number> {
  const bytesAt = (pointer: number, length: number): Uint8Array | undefined => {
    const buffer = memory()?.buffer;
    if (buffer === undefined) return undefined;
    const start = pointer >>> 0;
    if (length < 0 || start + length > buffer.byteLength) return undefined;
    return new Uint8Array(buffer, start, length);
  };
  const cString = (pointer: number): string | undefined => {
    const current = memory();
    if (current === undefined) return undefined;
    const buffer = new Uint8Array(current.buffer);
    const start = pointer >>> 0;
    const end = buffer.subarray(start, start + maxSlotNameBytes).indexOf(0);
    if (start >= buffer.length || end === -1) return undefined;
    return Buffer.from(buffer.subarray(start, start + end)).toString("utf8");
  };
  const guarded =
    <A extends number[]>(operation: (...args: A) => number) =>
    (...args: A): number => {
      try {
        return operation(...args);
      } catch (error) {
        if (error instanceof GuestFileError) return -1;
        throw error;
      }
    };
  return {
    teaclave_open_input: guarded((namePointer: number) => {
      const slot = cString(namePointer);
      return slot === undefined ? -1 : files.openInput(slot);
    }),
    teaclave_create_output: guarded((namePointer: number) => {
      const slot = cString(namePointer);
      return slot === undefined ? -1 : files.createOutput(slot);
    }),
    teaclave_read_file: guarded((handle: number, pointer: number, size: number) => {
      const target = bytesAt(pointer, size);
      if (target === undefined) return -1;
      const bytes = files.read(handle >>> 0, size);
      target.set(bytes);
      return bytes.length;
    }),
    teaclave_write_file: guarded((handle: number, pointer: number, size: number) => {
      const source = bytesAt(pointer, size);
      if (source === undefined) return -1;
      files.write(handle >>> 0, source);
      return size;
    }),
    teaclave_close_file: guarded((handle: number) => {
      files.close(handle >>> 0);
      return 0;
    }),
  };
}
