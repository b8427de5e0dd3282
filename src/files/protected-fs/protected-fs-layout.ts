/**
 * Byte layout of the Intel SGX Protected File System format (the SGX SDK's `sgx_tprotected_fs`
 * library) with a user key, which Teaclave calls `teaclave-file-128`. The tests check it against
 * files that Teaclave 0.6 wrote.
 *
 * The file is a sequence of 4096-byte nodes, each AES-128-GCM with a zero IV and no AAD:
 * 1. Node 0 contains a 96-byte plain header and the encrypted metadata: file name, size, the
 *    root MHT node's key and tag, and the first 3072 bytes of data.
 * 2. Data node `d` (4096 plaintext bytes) sits at physical node `2 + d + floor(d / 96)`.
 * 3. MHT node `m` sits at physical node `1 + 97 m`. It stores the key and tag of its 96 data
 *    nodes and of its 32 child MHT nodes. MHT node `m > 0` is child `(m - 1) % 32` of MHT node
 *    `floor((m - 1) / 32)`, and the metadata stores the key and tag of MHT node 0.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import { aesCmac } from "./aes-cmac.ts";

export const nodeSize = 4096;
/** Plaintext bytes stored inside the metadata node. */
export const metadataDataSize = 3072;
export const dataNodesPerMht = 96;
export const childMhtsPerMht = 32;
/** Size of one `{key, gmac}` entry in an MHT node or the metadata. */
export const cryptoEntrySize = 32;
export const headerSize = 96;
export const fileNameSize = 260;
/** Size of the encrypted metadata: name, size, root MHT key and tag, inline data. */
export const encryptedMetadataSize = fileNameSize + 8 + 16 + 16 + metadataDataSize;

/** "ELIF_XGS" read as a little-endian u64. */
const fileIdBytes = Buffer.from("ELIF_XGS", "latin1");
const majorVersion = 1;
const minorVersion = 0;
/** `encrypt_flags` value for a file protected by a user-supplied key. */
const userKeyFlag = 1;
/** Offsets inside the plain header. */
const keyIdOffset = 16;
export const gmacOffset = 80;

const zeroIv = Buffer.alloc(12);
const metadataKeyLabel = "SGX-PROTECTED-FS-METADATA-KEY";

/** Creates the one error that every integrity failure of this format raises. */
export function protectedFileIntegrityError(cause?: unknown): CloisterError {
  return new CloisterError("INTEGRITY", "teaclave-file-128 file failed its integrity check", {
    cause,
  });
}

/** Physical node number of data node `d`. */
export function dataNodePosition(dataNode: number): number {
  return 2 + dataNode + Math.floor(dataNode / dataNodesPerMht);
}

/** Physical node number of MHT node `m`. */
export function mhtNodePosition(mhtNode: number): number {
  return 1 + (dataNodesPerMht + 1) * mhtNode;
}

/** Number of data nodes a file of `size` plaintext bytes needs after the metadata node. */
export function dataNodeCount(size: number): number {
  return size <= metadataDataSize ? 0 : Math.ceil((size - metadataDataSize) / nodeSize);
}

/** Number of MHT nodes a file with `dataNodes` data nodes needs. */
export function mhtNodeCount(dataNodes: number): number {
  return dataNodes === 0 ? 0 : Math.floor((dataNodes - 1) / dataNodesPerMht) + 1;
}

/** Total length in bytes of a protected file of `size` plaintext bytes. */
export function protectedFileLength(size: number): number {
  const dataNodes = dataNodeCount(size);
  if (dataNodes === 0) return nodeSize;
  return (dataNodePosition(dataNodes - 1) + 1) * nodeSize;
}

/**
 * Derives the metadata key: AES-CMAC over the 120-byte `kdf_input_t` of the SGX SDK
 * (`index = 1`, the label NUL-padded to 64 bytes, 4 alignment bytes, `node_number = 0`, the
 * 32-byte `key_id`, `output_len = 0x80`, 4 alignment bytes).
 */
export function deriveMetadataKey(userKey: Uint8Array, keyId: Uint8Array): Buffer {
  const input = Buffer.alloc(120);
  input.writeUInt32LE(1, 0);
  input.write(metadataKeyLabel, 4, "latin1");
  input.set(keyId, 80);
  input.writeUInt32LE(0x80, 112);
  return aesCmac(userKey, input);
}

/** Encrypts one node (or the metadata) with AES-128-GCM, zero IV, no AAD. */
export function sealNode(
  key: Uint8Array,
  plaintext: Uint8Array,
): { ciphertext: Buffer; gmac: Buffer } {
  const cipher = createCipheriv("aes-128-gcm", key, zeroIv);
  // GCM is a stream mode: `update` returns every byte and `final` only computes the tag.
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return { ciphertext, gmac: cipher.getAuthTag() };
}

/** Decrypts one node, raising the uniform INTEGRITY error when its tag does not match. */
export function openNode(key: Uint8Array, gmac: Uint8Array, ciphertext: Uint8Array): Buffer {
  try {
    const decipher = createDecipheriv("aes-128-gcm", key, zeroIv);
    decipher.setAuthTag(gmac);
    const plaintext = decipher.update(ciphertext);
    decipher.final();
    return plaintext;
  } catch (error) {
    throw protectedFileIntegrityError(error);
  }
}

/** The fields of the plain header that a reader needs. */
export interface ProtectedFileHeader {
  readonly keyId: Buffer;
  readonly gmac: Buffer;
}

/** Parses and checks the plain header of node 0. */
export function parseHeader(node: Buffer): ProtectedFileHeader {
  const valid =
    node.length >= headerSize &&
    node.subarray(0, 8).equals(fileIdBytes) &&
    node[8] === majorVersion &&
    node[10] === userKeyFlag;
  if (!valid) throw protectedFileIntegrityError();
  return {
    keyId: Buffer.from(node.subarray(keyIdOffset, keyIdOffset + 32)),
    gmac: Buffer.from(node.subarray(gmacOffset, gmacOffset + 16)),
  };
}

/**
 * Builds the plain header of a new file. Like files that the SGX SDK writes with a user key,
 * the SVNs, key policy, CPU SVN and attribute mask are zero.
 */
export function buildHeader(keyId: Uint8Array, gmac: Uint8Array): Buffer {
  const header = Buffer.alloc(headerSize);
  header.set(fileIdBytes, 0);
  header[8] = majorVersion;
  header[9] = minorVersion;
  header[10] = userKeyFlag;
  header.set(keyId, keyIdOffset);
  header.set(gmac, gmacOffset);
  return header;
}

/** The decrypted metadata of node 0. */
export interface ProtectedFileMetadata {
  fileName: string;
  size: number;
  mhtKey: Buffer;
  mhtGmac: Buffer;
  /** The first `min(size, 3072)` bytes of the file. */
  data: Buffer;
}

export function parseMetadata(plaintext: Buffer): ProtectedFileMetadata {
  const nameEnd = plaintext.indexOf(0);
  const fileName = plaintext.toString(
    "utf8",
    0,
    nameEnd >= 0 && nameEnd < fileNameSize ? nameEnd : fileNameSize,
  );
  const size = plaintext.readBigInt64LE(fileNameSize);
  if (size < 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) throw protectedFileIntegrityError();
  const sizeNumber = Number(size);
  let offset = fileNameSize + 8;
  const mhtKey = Buffer.from(plaintext.subarray(offset, offset + 16));
  offset += 16;
  const mhtGmac = Buffer.from(plaintext.subarray(offset, offset + 16));
  offset += 16;
  const data = Buffer.from(
    plaintext.subarray(offset, offset + Math.min(sizeNumber, metadataDataSize)),
  );
  return { fileName, size: sizeNumber, mhtKey, mhtGmac, data };
}

export function buildMetadata(metadata: ProtectedFileMetadata): Buffer {
  const plaintext = Buffer.alloc(encryptedMetadataSize);
  const name = Buffer.from(metadata.fileName, "utf8");
  if (name.length >= fileNameSize || name.includes(0)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid teaclave-file-128 file name: it must be under ${fileNameSize} bytes without NUL`,
    );
  }
  plaintext.set(name, 0);
  let offset = fileNameSize;
  plaintext.writeBigInt64LE(BigInt(metadata.size), offset);
  offset += 8;
  plaintext.set(metadata.mhtKey, offset);
  offset += 16;
  plaintext.set(metadata.mhtGmac, offset);
  offset += 16;
  plaintext.set(metadata.data, offset);
  return plaintext;
}
