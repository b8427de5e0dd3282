/**
 * JavaScript evaluated in every QuickJS context before the function's source. It receives
 * the host's file operations as an argument, keeps them in a closure and defines the global
 * `open(slot, mode)`, which returns a file object modelled on Teaclave's Python file API,
 * and a `console` whose output goes to the task's log.
 */
export const guestPrelude = String.raw`
(function (host) {
  "use strict";
  const toWritable = (data) => {
    if (typeof data === "string") return data;
    if (data instanceof ArrayBuffer) return data;
    if (ArrayBuffer.isView(data)) {
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    }
    throw new TypeError("write() takes a string, an ArrayBuffer or a typed array");
  };
  class TeaclaveFile {
    #handle;
    #mode;
    constructor(handle, mode) {
      this.#handle = handle;
      this.#mode = mode;
    }
    /** Reads up to size bytes, or the rest of the input, as UTF-8 text. */
    read(size) {
      return host.read(this.#handle, size === undefined ? -1 : Number(size));
    }
    /** Reads up to size bytes, or the rest of the input, as an ArrayBuffer. */
    readBytes(size) {
      return host.readBytes(this.#handle, size === undefined ? -1 : Number(size));
    }
    readline() {
      return host.readLine(this.#handle);
    }
    readlines() {
      const lines = [];
      for (let line = host.readLine(this.#handle); line !== ""; line = host.readLine(this.#handle)) {
        lines.push(line);
      }
      return lines;
    }
    write(data) {
      host.write(this.#handle, toWritable(data));
    }
    close() {
      host.close(this.#handle);
    }
    get mode() {
      return this.#mode;
    }
  }
  Object.freeze(TeaclaveFile.prototype);
  const describe = (value) => {
    if (typeof value === "string") return value;
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  };
  const logger = (level) => (...values) => host.log(level, values.map(describe).join(" "));
  globalThis.console = {
    log: logger("INFO"),
    info: logger("INFO"),
    debug: logger("DEBUG"),
    warn: logger("WARN"),
    error: logger("ERROR"),
  };
  globalThis.open = function open(slot, mode) {
    if (mode !== "rb" && mode !== "wb") {
      throw new TypeError('open(slot, mode): mode must be "rb" or "wb"');
    }
    return new TeaclaveFile(host.open(String(slot), mode), mode);
  };
})
`;
