import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import {
  childMhtsPerMht,
  cryptoEntrySize,
  dataNodeCount,
  dataNodePosition,
  dataNodesPerMht,
  deriveMetadataKey,
  encryptedMetadataSize,
  headerSize,
  mhtNodeCount,
  mhtNodePosition,
  nodeSize,
  openNode,
  parseHeader,
  parseMetadata,
  protectedFileIntegrityError,
  protectedFileLength,
} from "./protected-fs-layout.ts";
import type { ProtectedFileMetadata } from "./protected-fs-layout.ts";

/** Decrypted MHT nodes kept for reuse; a sequential read needs only the chain to the root. */
const mhtCacheSize = 16;

/**
 * Streams the plaintext of a teaclave-file-128 file node by node, verifying the tag of every
 * node it reads. The metadata node is verified before the first chunk is returned, and an
 * integrity failure raises CloisterError INTEGRITY. Memory stays bounded by two groups of 96
 * data nodes (the one being decrypted and the one being read) plus a small cache of MHT
 * nodes, whatever the file size.
 */
export async function* readProtectedFile(
  path: string,
  userKey: Uint8Array,
  expectedFileName: string,
): AsyncGenerator<Buffer> {
  const handle = await open(path, "r");
  try {
    const reader = new ProtectedFileReader(handle, userKey);
    const metadata = await reader.readMetadata();
    if (metadata.fileName !== expectedFileName) throw protectedFileIntegrityError();
    const { size } = await handle.stat();
    if (size !== protectedFileLength(metadata.size)) throw protectedFileIntegrityError();
    if (metadata.data.length > 0) yield metadata.data;

    const dataNodes = dataNodeCount(metadata.size);
    const mhtNodes = mhtNodeCount(dataNodes);
    // The ciphertext of group `mht` is read into buffer `mht % 2`, so one group is decrypted
    // while the next is read. The plaintext goes to a fresh Buffer.
    const groupBuffers = [0, 1].map(() =>
      Buffer.allocUnsafe(Math.min(dataNodesPerMht, dataNodes) * nodeSize),
    );
    const readGroup = (mht: number): Promise<Buffer> => {
      const first = mht * dataNodesPerMht;
      const count = Math.min(dataNodesPerMht, dataNodes - first);
      const read = reader.readNodes(
        dataNodePosition(first),
        count,
        groupBuffers[mht % 2]!.subarray(0, count * nodeSize),
      );
      // A read left pending when decryption fails must not become an unhandled rejection.
      read.catch(() => undefined);
      return read;
    };
    let nextGroup = mhtNodes > 0 ? readGroup(0) : undefined;
    let remaining = metadata.size - metadata.data.length;
    for (let mht = 0; mht < mhtNodes; mht++) {
      const mhtNode = await reader.readMht(mht, metadata);
      const count = Math.min(dataNodesPerMht, dataNodes - mht * dataNodesPerMht);
      const ciphertext = await nextGroup!;
      // The next group's data nodes are read from disk while this group is decrypted.
      nextGroup = mht + 1 < mhtNodes ? readGroup(mht + 1) : undefined;
      const plaintext = Buffer.allocUnsafe(Math.min(count * nodeSize, remaining));
      for (let i = 0; i < count; i++) {
        const entry = i * cryptoEntrySize;
        const node = openNode(
          mhtNode.subarray(entry, entry + 16),
          mhtNode.subarray(entry + 16, entry + 32),
          ciphertext.subarray(i * nodeSize, (i + 1) * nodeSize),
        );
        node.copy(plaintext, i * nodeSize, 0, Math.min(nodeSize, plaintext.length - i * nodeSize));
      }
      remaining -= plaintext.length;
      yield plaintext;
    }
  } finally {
    await handle.close();
  }
}

/** Reads the 16-byte metadata GMAC (bytes 80..96), the value Teaclave registers as the cmac. */
export async function readProtectedFileTag(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const node = Buffer.alloc(headerSize);
    const { bytesRead } = await handle.read(node, 0, headerSize, 0);
    if (bytesRead !== headerSize) throw protectedFileIntegrityError();
    return parseHeader(node).gmac;
  } finally {
    await handle.close();
  }
}

class ProtectedFileReader {
  readonly #mhtCache = new Map<number, Buffer>();

  constructor(
    private readonly handle: FileHandle,
    private readonly userKey: Uint8Array,
  ) {}

  /** Reads `count` nodes from node `position` on, into `buffer` when one is given. */
  async readNodes(
    position: number,
    count: number,
    buffer = Buffer.allocUnsafe(count * nodeSize),
  ): Promise<Buffer> {
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, position * nodeSize);
    if (bytesRead !== buffer.length) throw protectedFileIntegrityError();
    return buffer;
  }

  async readMetadata(): Promise<ProtectedFileMetadata> {
    const node = await this.readNodes(0, 1);
    const header = parseHeader(node);
    const key = deriveMetadataKey(this.userKey, header.keyId);
    const ciphertext = node.subarray(headerSize, headerSize + encryptedMetadataSize);
    return parseMetadata(openNode(key, header.gmac, ciphertext));
  }

  /** Returns the decrypted MHT node `mht`, verified through its ancestors up to the metadata. */
  async readMht(mht: number, metadata: ProtectedFileMetadata): Promise<Buffer> {
    const cached = this.#mhtCache.get(mht);
    if (cached !== undefined) {
      this.#mhtCache.delete(mht);
      this.#mhtCache.set(mht, cached);
      return cached;
    }
    let key: Buffer;
    let gmac: Buffer;
    if (mht === 0) {
      key = metadata.mhtKey;
      gmac = metadata.mhtGmac;
    } else {
      const parent = await this.readMht(Math.floor((mht - 1) / childMhtsPerMht), metadata);
      const entry =
        dataNodesPerMht * cryptoEntrySize + ((mht - 1) % childMhtsPerMht) * cryptoEntrySize;
      key = parent.subarray(entry, entry + 16);
      gmac = parent.subarray(entry + 16, entry + 32);
    }
    const node = openNode(key, gmac, await this.readNodes(mhtNodePosition(mht), 1));
    this.#mhtCache.set(mht, node);
    if (this.#mhtCache.size > mhtCacheSize) {
      const oldest = this.#mhtCache.keys().next().value;
      if (oldest !== undefined) this.#mhtCache.delete(oldest);
    }
    return node;
  }
}
