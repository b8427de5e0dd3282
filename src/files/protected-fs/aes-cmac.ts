import { createCipheriv } from "node:crypto";

const blockSize = 16;

/** Doubles a 128-bit block in GF(2^128), the subkey step of RFC 4493 section 2.3. */
function double(block: Buffer): Buffer {
  const result = Buffer.alloc(blockSize);
  for (let i = 0; i < blockSize; i++) {
    const next = i + 1 < blockSize ? block[i + 1]! : 0;
    result[i] = ((block[i]! << 1) | (next >> 7)) & 0xff;
  }
  if ((block[0]! & 0x80) !== 0) result[blockSize - 1]! ^= 0x87;
  return result;
}

function encryptBlocks(key: Uint8Array, data: Buffer): Buffer {
  const cipher = createCipheriv("aes-128-cbc", key, Buffer.alloc(blockSize));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** Computes AES-128-CMAC (RFC 4493) of `message` under a 16-byte key. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  const subkey1 = double(encryptBlocks(key, Buffer.alloc(blockSize)));
  const subkey2 = double(subkey1);
  const blockCount = Math.max(1, Math.ceil(message.length / blockSize));
  const complete = message.length > 0 && message.length % blockSize === 0;
  const padded = Buffer.alloc(blockCount * blockSize);
  padded.set(message);
  if (!complete) padded[message.length] = 0x80;
  const lastOffset = (blockCount - 1) * blockSize;
  const subkey = complete ? subkey1 : subkey2;
  for (let i = 0; i < blockSize; i++) padded[lastOffset + i]! ^= subkey[i]!;
  return encryptBlocks(key, padded).subarray(lastOffset);
}
