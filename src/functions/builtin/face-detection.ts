import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireNumber } from "./arguments.ts";
import { decodeGrayImage } from "./face-detection/decode-image.ts";
import { loadFrontalFaceCascade } from "./face-detection/haar-cascade.ts";
import { detectFaces } from "./face-detection/haar-detector.ts";
import { formatJsonF64 } from "./rust-format.ts";

type Arguments = Readonly<Record<string, unknown>>;

/**
 * The detector samples windows at half the requested step in each direction, because the Haar
 * cascade fires on a narrower band of positions than rustface's funnel cascade. A face's score
 * is its number of merged window hits divided by this factor squared, so it counts hits per
 * requested window position.
 */
const densityFactor = 2;

function optionalNumber(args: Arguments, name: string, fallback: number): number {
  return args[name] === undefined || args[name] === null ? fallback : requireNumber(args, name);
}

function checkRange(name: string, value: number, valid: boolean, expected: string): number {
  if (!valid) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `argument "${name}" must be ${expected}, got ${value}`,
    );
  }
  return value;
}

/** Reads the image file bytes from `image` (a JSON array of 0–255) or `image_base64`. */
function readImageBytes(args: Arguments): Uint8Array {
  const image = args.image;
  if (Array.isArray(image)) {
    const bytes = new Uint8Array(image.length);
    for (let index = 0; index < image.length; index++) {
      const value: unknown = image[index];
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 255) {
        throw new CloisterError(
          "INVALID_ARGUMENT",
          `argument "image" must be an array of byte values 0–255; element ${index} is not`,
        );
      }
      bytes[index] = value;
    }
    return bytes;
  }
  // Earlier Teaclave versions took the file as base64 in `image_base64`.
  if (typeof args.image_base64 === "string") return Buffer.from(args.image_base64, "base64");
  throw new CloisterError(
    "INVALID_ARGUMENT",
    `missing argument "image": pass the image file's bytes as a JSON array of numbers`,
  );
}

/**
 * `builtin-face-detection`: detects frontal faces in the JPEG or PNG image passed in argument
 * `image` and returns them as JSON, `[{"bbox":{"x","y","width","height"},"roll","pitch","yaw",
 * "score"}]`, the field layout of rustface's `FaceInfo`, ordered by descending score.
 *
 * NOTE: Teaclave runs rustface (SeetaFace's funnel-structured cascade). Its model is not
 * available as an npm package, so this runs OpenCV's `haarcascade_frontalface_alt` as shipped
 * by jsfeat. Boxes, scores and borderline detections differ from Teaclave's. On Teaclave's
 * group photo it finds 28 faces where rustface finds 29. Roll, pitch and yaw are always 0.
 */
export const faceDetection: BuiltinFunction = {
  name: "builtin-face-detection",
  async run(args) {
    const windowSize = optionalNumber(args, "window_size", 40);
    checkRange("window_size", windowSize, windowSize >= 20, "at least 20");
    const stepX = optionalNumber(args, "slide_window_step_x", 4);
    checkRange("slide_window_step_x", stepX, stepX > 0, "greater than 0");
    const stepY = optionalNumber(args, "slide_window_step_y", 4);
    checkRange("slide_window_step_y", stepY, stepY > 0, "greater than 0");
    const minFaceSize = optionalNumber(args, "min_face_size", 20);
    checkRange("min_face_size", minFaceSize, minFaceSize >= 20, "at least 20");
    const maxFaceSize = optionalNumber(args, "max_face_size", Number.POSITIVE_INFINITY);
    checkRange("max_face_size", maxFaceSize, maxFaceSize >= minFaceSize, "at least min_face_size");
    const pyramid = optionalNumber(args, "pyramid_scale_factor", 0.8);
    checkRange("pyramid_scale_factor", pyramid, pyramid >= 0.01 && pyramid <= 0.99, "0.01 to 0.99");
    const scoreThreshold = optionalNumber(args, "score_thresh", 2);
    checkRange("score_thresh", scoreThreshold, scoreThreshold > 0, "greater than 0");

    const image = decodeGrayImage(readImageBytes(args));
    const hitsPerPosition = densityFactor * densityFactor;
    const faces = detectFaces(image, loadFrontalFaceCascade(), {
      minFaceSize,
      maxFaceSize,
      pyramidScaleFactor: pyramid,
      stepFractionX: stepX / windowSize / densityFactor,
      stepFractionY: stepY / windowSize / densityFactor,
      minNeighbors: Math.ceil(scoreThreshold * hitsPerPosition),
    });
    const entries = faces
      .map((face) => ({ face, score: face.neighbors / hitsPerPosition }))
      .sort((a, b) => b.score - a.score || a.face.y - b.face.y || a.face.x - b.face.x)
      .map(
        ({ face, score }) =>
          `{"bbox":{"x":${face.x},"y":${face.y},"width":${face.size},"height":${face.size}},` +
          `"roll":0.0,"pitch":0.0,"yaw":0.0,"score":${formatJsonF64(score)}}`,
      );
    return `[${entries.join(",")}]`;
  },
};
