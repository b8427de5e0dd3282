import { createRequire } from "node:module";
import jpeg from "jpeg-js";
import { CloisterError } from "../../../common/errors.ts";

/** The part of pngjs 7 used here; the package ships no type declarations. */
interface PngSync {
  read(buffer: Buffer): { width: number; height: number; data: Buffer };
}
const { PNG } = createRequire(import.meta.url)("pngjs") as { PNG: { sync: PngSync } };

/** An 8-bit grayscale image, row-major. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/** Largest image, in pixels, that the detector accepts (about 40 megapixels). */
const maxPixels = 40_000_000;

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function isPng(bytes: Uint8Array): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return signature.every((byte, index) => bytes[index] === byte);
}

/**
 * Decodes a JPEG or PNG file to grayscale with the ITU-R BT.601 luma weights that OpenCV
 * uses (0.299 R + 0.587 G + 0.114 B). Other formats raise INVALID_ARGUMENT.
 */
export function decodeGrayImage(bytes: Uint8Array): GrayImage {
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1_000_000,
        maxMemoryUsageInMB: 1024,
      });
      ({ width, height } = image);
      rgba = image.data;
    } else if (isPng(bytes)) {
      const image = PNG.sync.read(Buffer.from(bytes));
      ({ width, height } = image);
      rgba = image.data;
    } else {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "image" is neither a JPEG nor a PNG file; pass the file's bytes`,
      );
    }
  } catch (error) {
    if (CloisterError.is(error)) throw error;
    throw new CloisterError("INVALID_ARGUMENT", `argument "image" cannot be decoded as an image`, {
      cause: error,
    });
  }
  if (width * height > maxPixels) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "image" has ${width}×${height} pixels, more than the limit of ${maxPixels}`,
    );
  }
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    const red = rgba[i * 4]!;
    const green = rgba[i * 4 + 1]!;
    const blue = rgba[i * 4 + 2]!;
    pixels[i] = Math.round(0.299 * red + 0.587 * green + 0.114 * blue);
  }
  return { width, height, pixels };
}
