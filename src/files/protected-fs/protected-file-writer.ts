import { randomBytes, randomFillSync } from "node:crypto";
import { open, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import {
  buildHeader,
  buildMetadata,
  childMhtsPerMht,
  cryptoEntrySize,
  dataNodesPerMht,
  deriveMetadataKey,
  headerSize,
  metadataDataSize,
  mhtNodePosition,
  nodeSize,
  sealNode,
} from "./protected-fs-layout.ts";

/** Sequential writes are gathered up to this many bytes before they go to disk. */
const writeBatchBytes = 1024 * 1024;

/**
 * Writes a new teaclave-file-128 file from a stream of plaintext chunks. Data nodes go to disk
 * as soon as they are full. The MHT nodes stay in memory (4 KiB per 388 KiB of plaintext)
 * because a node's tag is known only after all its children are written. `finish` then writes
 * the MHT nodes bottom-up and the metadata node into the slots left for them.
 *
 * Every node gets its own random key, so no key is used twice with the format's zero IV.
 */
export class ProtectedFileWriter {
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #userKey: Uint8Array;
  readonly #fileName: string;
  readonly #inline = Buffer.alloc(metadataDataSize);
  readonly #node = Buffer.alloc(nodeSize);
  #nodeLength = 0;
  #size = 0;
  #dataNodes = 0;
  readonly #mhtNodes: Buffer[] = [];
  #batch: Buffer[] = [];
  #batchBytes = 0;
  /** Byte offset of the next sequential node. Node 0 is written last, by `finish`. */
  #position = nodeSize;
  #keyPool = Buffer.alloc(0);
  #inflight: Promise<void> = Promise.resolve();

  private constructor(handle: FileHandle, path: string, userKey: Uint8Array, fileName: string) {
    this.#handle = handle;
    this.#path = path;
    this.#userKey = userKey;
    this.#fileName = fileName;
  }

  /** Creates the file at `path`, which must not exist; `fileName` is stored in the metadata. */
  static async create(
    path: string,
    userKey: Uint8Array,
    fileName: string,
  ): Promise<ProtectedFileWriter> {
    return new ProtectedFileWriter(await open(path, "wx"), path, userKey, fileName);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    if (this.#size < metadataDataSize) {
      const copied = Math.min(metadataDataSize - this.#size, chunk.length);
      this.#inline.set(chunk.subarray(0, copied), this.#size);
      this.#size += copied;
      offset = copied;
    }
    while (offset < chunk.length) {
      if (this.#nodeLength === 0 && chunk.length - offset >= nodeSize) {
        // A whole node of input is sealed where it is, without the copy into `#node`.
        this.#sealDataNode(chunk.subarray(offset, offset + nodeSize));
        this.#size += nodeSize;
        offset += nodeSize;
        if (this.#batchBytes >= writeBatchBytes) await this.#flushBatch();
        continue;
      }
      const copied = Math.min(nodeSize - this.#nodeLength, chunk.length - offset);
      this.#node.set(chunk.subarray(offset, offset + copied), this.#nodeLength);
      this.#nodeLength += copied;
      this.#size += copied;
      offset += copied;
      if (this.#nodeLength === nodeSize) this.#sealDataNode();
      if (this.#batchBytes >= writeBatchBytes) await this.#flushBatch();
    }
  }

  /** Writes the MHT and metadata nodes, closes the file and returns its cmac (the metadata GMAC). */
  async finish(): Promise<Buffer> {
    try {
      if (this.#nodeLength > 0) {
        this.#node.fill(0, this.#nodeLength);
        this.#sealDataNode();
      }
      await this.#flushBatch(true);
      const root = await this.#writeMhtNodes();
      const keyId = randomBytes(32);
      const metadata = buildMetadata({
        fileName: this.#fileName,
        size: this.#size,
        mhtKey: root.key,
        mhtGmac: root.gmac,
        data: this.#inline.subarray(0, Math.min(this.#size, metadataDataSize)),
      });
      const sealed = sealNode(deriveMetadataKey(this.#userKey, keyId), metadata);
      const node = Buffer.alloc(nodeSize);
      buildHeader(keyId, sealed.gmac).copy(node);
      sealed.ciphertext.copy(node, headerSize);
      await this.#handle.write(node, 0, nodeSize, 0);
      await this.#handle.close();
      return sealed.gmac;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** Closes and removes the partly written file. */
  async abort(): Promise<void> {
    await this.#inflight.catch(() => undefined);
    await this.#handle.close().catch(() => undefined);
    await rm(this.#path, { force: true });
  }

  #nextKey(): Buffer {
    if (this.#keyPool.length === 0) this.#keyPool = randomFillSync(Buffer.alloc(16 * 256));
    const key = this.#keyPool.subarray(0, 16);
    this.#keyPool = this.#keyPool.subarray(16);
    return key;
  }

  /** Seals `plaintext`, by default the buffered node, as the next data node. */
  #sealDataNode(plaintext: Uint8Array = this.#node): void {
    const dataNode = this.#dataNodes++;
    const mht = Math.floor(dataNode / dataNodesPerMht);
    if (dataNode % dataNodesPerMht === 0) {
      // The MHT node precedes its data nodes on disk; leave its slot for `finish`.
      this.#mhtNodes.push(Buffer.alloc(nodeSize));
      this.#queue(Buffer.alloc(nodeSize));
    }
    const key = this.#nextKey();
    const { ciphertext, gmac } = sealNode(key, plaintext);
    const entry = (dataNode % dataNodesPerMht) * cryptoEntrySize;
    const mhtNode = this.#mhtNodes[mht]!;
    mhtNode.set(key, entry);
    mhtNode.set(gmac, entry + 16);
    this.#queue(ciphertext);
    this.#nodeLength = 0;
  }

  #queue(node: Buffer): void {
    this.#batch.push(node);
    this.#batchBytes += node.length;
  }

  /**
   * Starts writing the gathered nodes and returns once the previous batch is on disk, so
   * encryption of the next batch overlaps the write of this one. `wait` also awaits this one.
   */
  async #flushBatch(wait = false): Promise<void> {
    const previous = this.#inflight;
    if (this.#batch.length > 0) {
      const batch = this.#batch;
      this.#batch = [];
      const write = this.#handle.writev(batch, this.#position);
      this.#inflight = write.then(() => undefined);
      this.#inflight.catch(() => undefined);
      this.#position += this.#batchBytes;
      this.#batchBytes = 0;
    }
    await previous;
    if (wait) await this.#inflight;
  }

  /** Seals the MHT nodes children first and returns the root's key and tag (zero when none). */
  async #writeMhtNodes(): Promise<{ key: Buffer; gmac: Buffer }> {
    let root: { key: Buffer; gmac: Buffer } = { key: Buffer.alloc(16), gmac: Buffer.alloc(16) };
    for (let mht = this.#mhtNodes.length - 1; mht >= 0; mht--) {
      const key = this.#nextKey();
      const { ciphertext, gmac } = sealNode(key, this.#mhtNodes[mht]!);
      await this.#handle.write(ciphertext, 0, nodeSize, mhtNodePosition(mht) * nodeSize);
      if (mht === 0) {
        root = { key: Buffer.from(key), gmac };
      } else {
        const parent = this.#mhtNodes[Math.floor((mht - 1) / childMhtsPerMht)]!;
        const entry =
          dataNodesPerMht * cryptoEntrySize + ((mht - 1) % childMhtsPerMht) * cryptoEntrySize;
        parent.set(key, entry);
        parent.set(gmac, entry + 16);
      }
    }
    return root;
  }
}
