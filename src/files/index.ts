/**
 * File handling of Cloister: the FileCrypto schemas, the file agent's URL transports, and the
 * task-file pipeline that the execution service runs around every function.
 */
export { fileCryptoSchemas, generateFileCrypto, parseFileCrypto } from "./file-crypto.ts";
export type { FileCrypto, FileCryptoSchema, FileDirection } from "./file-crypto.ts";
export { downloadFile, uploadFile } from "./agent/file-agent.ts";
export type { TransportOptions } from "./agent/file-transport.ts";
export { inputSchemes, outputSchemes, validateFileUrl } from "./agent/file-url.ts";
export { prepareTaskFiles } from "./task-files.ts";
export type {
  TaskFileOptions,
  TaskFileSpec,
  TaskFiles,
  TaskInputFile,
  TaskOutputFile,
} from "./task-files.ts";
export { decryptFile, encryptFile } from "./encrypt-file.ts";
export { checkLocalPath } from "./agent/local-path-policy.ts";
export type { LocalPathPolicy } from "./agent/local-path-policy.ts";
