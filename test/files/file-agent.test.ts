import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { downloadFile, uploadFile, validateFileUrl } from "../../src/files/index.ts";
import { startLoopbackServer } from "./loopback-server.ts";
import type { LoopbackServer } from "./loopback-server.ts";

let directory: string;
let serveDirectory: string;
let uploadDirectory: string;
let fusionBase: string;
let http: LoopbackServer;
let https: LoopbackServer;
let counter = 0;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), "cloister-agent-"));
  serveDirectory = join(directory, "served");
  uploadDirectory = join(directory, "uploaded");
  fusionBase = join(directory, "fusion");
  await mkdir(serveDirectory);
  await mkdir(uploadDirectory);
  await mkdir(fusionBase);
  await writeFile(join(serveDirectory, "input.txt"), "Hello\nWorld");
  http = await startLoopbackServer({ serveDirectory, uploadDirectory });
  https = await startLoopbackServer({ serveDirectory, uploadDirectory, tls: true });
});

after(async () => {
  await http.close();
  await https.close();
  await rm(directory, { recursive: true, force: true });
});

/** Transfer options that let `file:` URLs use the test's own directory. */
function local() {
  return { localPaths: { roots: [directory], forbidden: [] } };
}

function freshPath(name = "file"): string {
  return join(directory, `${name}-${counter++}`);
}

async function writeSource(content: string): Promise<string> {
  const path = freshPath("source");
  await writeFile(path, content);
  return path;
}

test("http download writes the body", async () => {
  const destination = freshPath();
  await downloadFile(`${http.origin}/input.txt`, destination);
  assert.equal(await readFile(destination, "utf8"), "Hello\nWorld");
});

test("http download of a missing file fails", async () => {
  const destination = freshPath();
  await assert.rejects(downloadFile(`${http.origin}/missing.txt`, destination), {
    code: "NOT_FOUND",
    message: /HTTP 404/,
  });
  await assert.rejects(readFile(destination), { code: "ENOENT" });
});

test("http download from a closed port fails", async () => {
  const closed = await startLoopbackServer({ serveDirectory, uploadDirectory });
  await closed.close();
  await assert.rejects(downloadFile(`${closed.origin}/input.txt`, freshPath()), {
    code: "UNAVAILABLE",
  });
});

test("http download keeps an existing destination", async () => {
  const destination = await writeSource("keep");
  await assert.rejects(downloadFile(`${http.origin}/input.txt`, destination), {
    code: "ALREADY_EXISTS",
  });
  assert.equal(await readFile(destination, "utf8"), "keep");
});

test("http download stops on abort", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    downloadFile(`${http.origin}/input.txt`, freshPath(), { signal: controller.signal }),
    { name: "AbortError" },
  );
});

test("https download trusts the supplied CA", async () => {
  const destination = freshPath();
  await downloadFile(`${https.origin}/input.txt`, destination, { httpsCa: https.certificate! });
  assert.equal(await readFile(destination, "utf8"), "Hello\nWorld");
});

test("https download rejects an unknown CA", async () => {
  await assert.rejects(downloadFile(`${https.origin}/input.txt`, freshPath()), {
    code: "UNAVAILABLE",
  });
});

test("http upload sends PUT with headers", async () => {
  const source = await writeSource("output bytes");
  await uploadFile(source, `${http.origin}/put-plain.bin`);
  assert.equal(await readFile(join(uploadDirectory, "put-plain.bin"), "utf8"), "output bytes");
  const upload = http.uploads.find((entry) => entry.path === "put-plain.bin");
  assert.equal(upload?.contentType, "application/x-binary");
  assert.equal(upload?.contentLength, "12");
});

test("https upload with the supplied CA", async () => {
  const source = await writeSource("secure bytes");
  await uploadFile(source, `${https.origin}/put-secure.bin`, { httpsCa: https.certificate! });
  assert.equal(await readFile(join(uploadDirectory, "put-secure.bin"), "utf8"), "secure bytes");
});

test("http upload fails unless the status is 200", async () => {
  const source = await writeSource("x");
  http.putStatus = 201;
  try {
    await assert.rejects(uploadFile(source, `${http.origin}/put-201.bin`), {
      code: "UNAVAILABLE",
      message: /HTTP 201/,
    });
  } finally {
    http.putStatus = 200;
  }
});

test("file download copies the source", async () => {
  const source = await writeSource("local");
  const destination = freshPath();
  await downloadFile(pathToFileURL(source).href, destination, local());
  assert.equal(await readFile(destination, "utf8"), "local");
});

test("file download of a missing source fails", async () => {
  await assert.rejects(
    downloadFile(pathToFileURL(freshPath("missing")).href, freshPath(), local()),
    {
      code: "NOT_FOUND",
    },
  );
});

test("file download keeps an existing destination", async () => {
  const source = await writeSource("new");
  const destination = await writeSource("old");
  await assert.rejects(downloadFile(pathToFileURL(source).href, destination, local()), {
    code: "ALREADY_EXISTS",
  });
  assert.equal(await readFile(destination, "utf8"), "old");
});

test("file upload places the file", async () => {
  const source = await writeSource("placed");
  const destination = freshPath("placed");
  await uploadFile(source, pathToFileURL(destination).href, local());
  assert.equal(await readFile(destination, "utf8"), "placed");
});

test("file upload never overwrites", async () => {
  const source = await writeSource("new");
  const destination = await writeSource("old");
  await assert.rejects(uploadFile(source, pathToFileURL(destination).href, local()), {
    code: "ALREADY_EXISTS",
  });
  assert.equal(await readFile(destination, "utf8"), "old");
});

test("data URL download decodes base64", async () => {
  const destination = freshPath();
  await downloadFile("data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9", destination);
  assert.equal(
    (await readFile(destination)).toString("hex"),
    "73e9a9bd17d9d1f6e84748f7ad380e183062b9b4b3942b7d",
  );
});

test("data URL upload is rejected", async () => {
  const source = await writeSource("x");
  await assert.rejects(uploadFile(source, "data:text/plain;base64,eA=="), {
    code: "INVALID_ARGUMENT",
    message: /"data".*file, http, https, fusion/,
  });
});

test("fusion upload and download round trip", async () => {
  const source = await writeSource("fusion bytes");
  const url = "fusion:///TEACLAVE_FUSION_BASE/task-1/output";
  await uploadFile(source, url, { fusionBaseDirectory: fusionBase });
  assert.equal(await readFile(join(fusionBase, "task-1", "output"), "utf8"), "fusion bytes");
  await assert.rejects(uploadFile(source, url, { fusionBaseDirectory: fusionBase }), {
    code: "ALREADY_EXISTS",
  });
  const destination = freshPath();
  await downloadFile(url, destination, { fusionBaseDirectory: fusionBase });
  assert.equal(await readFile(destination, "utf8"), "fusion bytes");
});

test("fusion URL cannot escape the base", async () => {
  const source = await writeSource("x");
  for (const url of [
    "fusion:///TEACLAVE_FUSION_BASE/../escape",
    "fusion:///TEACLAVE_FUSION_BASE/%2e%2e/escape",
    "fusion:///TEACLAVE_FUSION_BASE/a/..%2f..%2fescape",
    "fusion:///TEACLAVE_FUSION_BASE/a%5c..%5cescape",
    "fusion:///OTHER/escape",
    "fusion://host/TEACLAVE_FUSION_BASE/escape",
  ]) {
    await assert.rejects(
      uploadFile(source, url, { fusionBaseDirectory: fusionBase }),
      {
        code: "INVALID_ARGUMENT",
      },
      url,
    );
  }
});

test("fusion URL without a base directory fails", async () => {
  await assert.rejects(downloadFile("fusion:///TEACLAVE_FUSION_BASE/x", freshPath()), {
    code: "FAILED_PRECONDITION",
  });
});

test("validateFileUrl rejects other schemes", () => {
  for (const url of ["s3://bucket/key", "ftp://host/file", "javascript:alert(1)"]) {
    const scheme = url.slice(0, url.indexOf(":"));
    assert.throws(() => validateFileUrl(url, "input"), {
      code: "INVALID_ARGUMENT",
      message: new RegExp(`"${scheme}".*file, http, https, data, fusion`),
    });
  }
});

test("validateFileUrl rejects unparsable URLs", () => {
  assert.throws(() => validateFileUrl("not a url", "input"), {
    code: "INVALID_ARGUMENT",
    message: /cannot parse/,
  });
  assert.throws(() => validateFileUrl("http://", "output"), {
    code: "INVALID_ARGUMENT",
    message: /scheme http.*file, http, https, fusion/,
  });
});

test("validateFileUrl checks data URLs", () => {
  assert.equal(validateFileUrl("data:text/plain;base64,eA==", "input").protocol, "data:");
  assert.throws(() => validateFileUrl("data:text/html;base64,eA==", "input"), {
    code: "INVALID_ARGUMENT",
  });
  assert.throws(() => validateFileUrl("data:text/plain;base64,e$A=", "input"), {
    code: "INVALID_ARGUMENT",
  });
  assert.throws(() => validateFileUrl("data:text/plain;base64,eA==", "output"), {
    code: "INVALID_ARGUMENT",
  });
});

test("validateFileUrl accepts every allowed scheme", () => {
  for (const url of [
    "file:///tmp/a",
    "http://localhost:6789/fixtures/a",
    "https://example.com/a?signature=1",
    "fusion:///TEACLAVE_FUSION_BASE/a/b",
  ]) {
    assert.equal(validateFileUrl(url, "output").href, url);
    assert.equal(validateFileUrl(url, "input").href, url);
  }
});
