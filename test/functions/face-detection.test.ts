import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import jpeg from "jpeg-js";
import { teaclaveFixture } from "../helpers/fixtures.ts";
import { runBuiltin } from "./run-builtin.ts";

const photoPath = teaclaveFixture("functions/face_detection/input.jpg");
const fixtureArgs = {
  min_face_size: 20,
  score_thresh: 2.0,
  pyramid_scale_factor: 0.8,
  slide_window_step_x: 4,
  slide_window_step_y: 4,
};

interface Face {
  bbox: { x: number; y: number; width: number; height: number };
  roll: number;
  pitch: number;
  yaw: number;
  score: number;
}

const { PNG } = createRequire(import.meta.url)("pngjs") as {
  PNG: { sync: { write(image: { width: number; height: number; data: Buffer }): Buffer } };
};

test("face-detection group photo", async () => {
  const image = [...(await readFile(photoPath))];
  const result = await runBuiltin("builtin-face-detection", { ...fixtureArgs, image }, {});
  const faces = JSON.parse(result.summary) as Face[];
  // Teaclave's rustface finds 29 faces in this photo; a different detector may be one off.
  assert.ok(faces.length >= 28, `found ${faces.length} faces`);
  assert.ok(faces.length <= 30, `found ${faces.length} faces`);
  for (const face of faces) {
    assert.deepEqual(Object.keys(face), ["bbox", "roll", "pitch", "yaw", "score"]);
    assert.deepEqual(Object.keys(face.bbox), ["x", "y", "width", "height"]);
    assert.ok(face.score >= 2.0, `score ${face.score} below the threshold`);
    assert.ok(face.bbox.width >= 20);
    assert.ok(face.bbox.x >= 0);
    assert.ok(face.bbox.y >= 0);
    assert.ok(face.bbox.x + face.bbox.width <= 1666);
    assert.ok(face.bbox.y + face.bbox.height <= 1136);
  }
  const scores = faces.map((face) => face.score);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
  );
  assert.match(result.summary, /"roll":0\.0,"pitch":0\.0,"yaw":0\.0,"score":/);
});

test("face-detection png crop", async () => {
  // A PNG crop of the photo's front row, 400×200 pixels from (540, 230).
  const photo = jpeg.decode(await readFile(photoPath), { useTArray: true });
  const width = 400;
  const height = 200;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const start = ((230 + y) * photo.width + 540) * 4;
    data.set(photo.data.subarray(start, start + width * 4), y * width * 4);
  }
  const png = PNG.sync.write({ width, height, data });
  const result = await runBuiltin("builtin-face-detection", { image: [...png] }, {});
  const faces = JSON.parse(result.summary) as Face[];
  assert.ok(faces.length >= 2, `found ${faces.length} faces`);
});

test("face-detection blank image", async () => {
  const width = 64;
  const png = PNG.sync.write({ width, height: width, data: Buffer.alloc(width * width * 4, 200) });
  const result = await runBuiltin("builtin-face-detection", { image: [...png] }, {});
  assert.equal(result.summary, "[]");
});

test("face-detection invalid arguments", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /missing argument "image"/],
    [{ image: [1, 2, 3] }, /neither a JPEG nor a PNG/],
    [{ image: [0xff, 0xd8, 0xff, 0x00] }, /cannot be decoded as an image/],
    [{ image: [0xff, 256] }, /element 1 is not/],
    [{ image: [0xff], min_face_size: 10 }, /"min_face_size" must be at least 20/],
    [{ image: [0xff], pyramid_scale_factor: 1.5 }, /"pyramid_scale_factor" must be 0.01 to 0.99/],
    [{ image: [0xff], score_thresh: 0 }, /"score_thresh" must be greater than 0/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(runBuiltin("builtin-face-detection", args, {}), {
      code: "INVALID_ARGUMENT",
      message,
    });
  }
});
