import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import http2 from "node:http2";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { encryptLocalFile } from "../../src/demo/party.ts";
import { TaskStatus } from "../../src/gen/teaclave_common_pb.ts";
import { grpcFrame, rawGrpcCall } from "../helpers/raw-grpc.ts";
import { startTestPlatform } from "../helpers/test-platform.ts";
import type { Session, TestPlatform } from "../helpers/test-platform.ts";
import { rejectsWith } from "../helpers/rejects-with.ts";

const getTaskPath = "/teaclave_frontend_service_proto.TeaclaveFrontend/GetTask";

const aes128 = { schema: "aes-gcm-128" as const, key: new Uint8Array(16), iv: new Uint8Array(12) };

describe("bad input", () => {
  let platform: TestPlatform;
  let owner: Session;
  let alice: Session;
  let files: string;
  let passwordCheck: string;

  before(async () => {
    platform = await startTestPlatform({ executorWorkers: 1 });
    owner = await platform.createUser("owner", "FunctionOwner");
    alice = await platform.createUser("alice", "DataOwner", "a");
    files = await mkdtemp(join(tmpdir(), "cloister-bad-input-"));
    passwordCheck = await owner.frontend.registerFunction({
      name: "builtin-password-check",
      description: "",
      executorType: "builtin",
      public: true,
      inputs: [
        { name: "password", description: "", optional: false },
        { name: "exposed_passwords", description: "", optional: false },
      ],
    });
  });
  after(async () => {
    await platform.dispose();
    await rm(files, { recursive: true, force: true });
  });

  test("an undecodable protobuf body gets INTERNAL, as gRPC servers answer", async () => {
    // grpc-java and tonic (Teaclave's server) also return INTERNAL when a request does not
    // decode; connect-es does the same and names the parse failure.
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: "/teaclave_frontend_service_proto.TeaclaveFrontend/GetTask",
      frame: grpcFrame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])),
    });
    assert.equal(result.status, Code.Internal);
    assert.match(result.message, /parse binary/);
  });

  test("a truncated gRPC frame gets INVALID_ARGUMENT", async () => {
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: "/teaclave_frontend_service_proto.TeaclaveFrontend/GetTask",
      frame: grpcFrame(Buffer.from([0x0a]), 100),
    });
    assert.equal(result.status, Code.InvalidArgument);
  });

  test("a message over 4 MiB gets RESOURCE_EXHAUSTED", async () => {
    const body = Buffer.alloc(4 * 1024 * 1024 + 16, 0x41);
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: "/teaclave_frontend_service_proto.TeaclaveFrontend/RegisterFunction",
      frame: grpcFrame(body),
    });
    assert.equal(result.status, Code.ResourceExhausted);
  });

  test("an unknown method gets UNIMPLEMENTED", async () => {
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: "/teaclave_frontend_service_proto.TeaclaveFrontend/DropEverything",
      frame: grpcFrame(Buffer.alloc(0)),
    });
    assert.equal(result.status, Code.Unimplemented);
  });

  test("two messages in a unary call get UNIMPLEMENTED", async () => {
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: getTaskPath,
      frame: Buffer.concat([grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.alloc(0))]),
    });
    assert.equal(result.status, Code.Unimplemented);
    assert.match(result.message, /extra input message/);
  });

  test("an empty body gets UNIMPLEMENTED", async () => {
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: getTaskPath,
      frame: Buffer.alloc(0),
    });
    assert.equal(result.status, Code.Unimplemented);
    assert.match(result.message, /missing input message/);
  });

  test("a compressed frame without grpc-encoding gets INTERNAL", async () => {
    const frame = grpcFrame(Buffer.from([0x0a, 0x00]));
    frame[0] = 1;
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: getTaskPath,
      frame,
    });
    assert.equal(result.status, Code.Internal);
    assert.match(result.message, /compressed envelope/);
  });

  test("an invalid grpc-timeout gets INVALID_ARGUMENT", async () => {
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: getTaskPath,
      frame: grpcFrame(Buffer.alloc(0)),
      headers: { "grpc-timeout": "soon" },
    });
    assert.equal(result.status, Code.InvalidArgument);
    assert.match(result.message, /invalid grpc timeout value: soon/);
  });

  test("fractional grpc-timeout values are accepted", async () => {
    // gRPC-Go sends deadlines in nanoseconds or microseconds. Without credentials the call
    // ends at authentication, which proves the deadline itself was accepted.
    for (const timeout of ["199999u", "1500u", "99999999n", "10S"]) {
      const result = await rawGrpcCall({
        port: platform.platform.frontendPort,
        path: getTaskPath,
        frame: grpcFrame(Buffer.alloc(0)),
        headers: { "grpc-timeout": timeout },
      });
      assert.equal(result.status, Code.Unauthenticated, `grpc-timeout ${timeout}`);
    }
  });

  test("a grpc-timeout past the timer range gets INVALID_ARGUMENT", async () => {
    const gzipped = grpcFrame(gzipSync(Buffer.alloc(0)));
    gzipped[0] = 1;
    // The plain request takes Cloister's short path, the gzip one Connect's handler.
    for (const [frame, headers] of [
      [grpcFrame(Buffer.alloc(0)), {}],
      [gzipped, { "grpc-encoding": "gzip" }],
    ] as const) {
      const result = await rawGrpcCall({
        port: platform.platform.frontendPort,
        path: getTaskPath,
        frame,
        headers: { ...headers, "grpc-timeout": "3000000S" },
      });
      assert.equal(result.status, Code.InvalidArgument);
      assert.match(result.message, /timeout 3000000000ms must be <= 2147483647/);
    }
  });

  test("an oversized upload is cut off after its status", async () => {
    const session = http2.connect(`https://127.0.0.1:${platform.platform.frontendPort}`, {
      rejectUnauthorized: false,
    });
    try {
      const request = session.request({
        ":method": "POST",
        ":path": getTaskPath,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status: string | undefined;
      request.on("response", (headers) => (status ??= headers["grpc-status"] as string));
      request.on("trailers", (headers) => (status ??= headers["grpc-status"] as string));
      request.on("data", () => {});
      request.on("error", () => {});
      const closed = new Promise<void>((resolve) => request.once("close", () => resolve()));
      const header = Buffer.alloc(5);
      header.writeUInt32BE(0xffffffff, 1);
      request.write(header);
      // Keeps sending for at most 5 s; the server must end the stream long before that.
      const chunk = Buffer.alloc(64 * 1024);
      const deadline = Date.now() + 5_000;
      let ended = false;
      void closed.then(() => (ended = true));
      while (!ended && Date.now() < deadline) {
        if (!request.write(chunk)) {
          await Promise.race([
            new Promise((resolve) => request.once("drain", resolve)),
            closed,
            new Promise((resolve) => setTimeout(resolve, 100)),
          ]);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(ended, true, "the server left the stream open");
      assert.equal(status, String(Code.ResourceExhausted));
    } finally {
      session.destroy();
    }
  });

  test("a gzip request is decompressed and served", async () => {
    // Without credentials the call reaches authentication, which only a decoded request does.
    const frame = grpcFrame(gzipSync(Buffer.alloc(0)));
    frame[0] = 1;
    const result = await rawGrpcCall({
      port: platform.platform.frontendPort,
      path: getTaskPath,
      frame,
      headers: { "grpc-encoding": "gzip" },
    });
    assert.equal(result.status, Code.Unauthenticated);
  });

  test("ids with a wrong prefix or unknown uuid", async () => {
    await rejectsWith(
      alice.frontend.getTask(`function-${randomUUID()}`),
      Code.InvalidArgument,
      /expected task-<uuid>/,
    );
    await rejectsWith(alice.frontend.getTask("task-not-a-uuid"), Code.InvalidArgument);
    await rejectsWith(alice.frontend.getTask(""), Code.InvalidArgument, /missing/);
    await rejectsWith(alice.frontend.getTask(`task-${randomUUID()}`), Code.NotFound);
    await rejectsWith(
      alice.frontend.rpc.getInputFile({ dataId: `output-${randomUUID()}` }),
      Code.InvalidArgument,
    );
    await rejectsWith(
      alice.frontend.rpc.getFunction({ functionId: `function-${randomUUID()}` }),
      Code.NotFound,
    );
  });

  test("registrations with bad URLs, cmacs and keys", async () => {
    await rejectsWith(
      alice.frontend.registerInputFile("ftp://example.invalid/x", new Uint8Array(16), aes128),
      Code.InvalidArgument,
      /ftp/,
    );
    await rejectsWith(
      alice.frontend.registerInputFile("not a url", new Uint8Array(16), aes128),
      Code.InvalidArgument,
    );
    await rejectsWith(
      alice.frontend.registerInputFile("file:///tmp/x", new Uint8Array(15), aes128),
      Code.InvalidArgument,
      /cmac/,
    );
    await rejectsWith(
      alice.frontend.registerInputFile("file:///tmp/x", new Uint8Array(16), {
        schema: "aes-gcm-128",
        key: new Uint8Array(15),
        iv: new Uint8Array(12),
      }),
      Code.InvalidArgument,
      /key/,
    );
    await rejectsWith(
      alice.frontend.registerOutputFile("file:///tmp/x", { schema: "raw" }),
      Code.InvalidArgument,
      /raw/,
    );
    await rejectsWith(
      alice.frontend.rpc.registerInputFile({ url: "file:///tmp/x", cmac: new Uint8Array(16) }),
      Code.InvalidArgument,
      /crypto_info/,
    );
  });

  test("function registrations with bad fields", async () => {
    await rejectsWith(
      owner.frontend.registerFunction({ name: "x", executorType: "cobol" }),
      Code.InvalidArgument,
      /executor_type/,
    );
    await rejectsWith(
      owner.frontend.registerFunction({ name: "builtin-nothing", executorType: "builtin" }),
      Code.InvalidArgument,
      /no built-in/,
    );
    await rejectsWith(
      owner.frontend.registerFunction({ name: "py", executorType: "python" }),
      Code.InvalidArgument,
      /payload/,
    );
    await rejectsWith(
      owner.frontend.registerFunction({
        name: "builtin-echo",
        executorType: "builtin",
        inputs: [
          { name: "a", description: "", optional: false },
          { name: "a", description: "", optional: false },
        ],
      }),
      Code.InvalidArgument,
      /unique/,
    );
  });

  test("payloads their executor cannot run", async () => {
    await rejectsWith(
      owner.frontend.registerFunction({
        name: "not-wasm",
        executorType: "wamr",
        payload: Buffer.from("print('hello')"),
      }),
      Code.InvalidArgument,
      /not a valid WebAssembly module/,
    );
    // The magic number alone is not a module: the version and sections must validate too.
    await rejectsWith(
      owner.frontend.registerFunction({
        name: "truncated-wasm",
        executorType: "wamr",
        payload: Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x02]),
      }),
      Code.InvalidArgument,
      /not a valid WebAssembly module/,
    );
    for (const executorType of ["python", "javascript"]) {
      await rejectsWith(
        owner.frontend.registerFunction({
          name: "latin-1",
          executorType,
          payload: Buffer.from([0x23, 0x20, 0xe9, 0x0a]),
        }),
        Code.InvalidArgument,
        new RegExp(`${executorType} function: the source is not valid UTF-8`),
      );
    }
    const emptyModule = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const accepted = await owner.frontend.registerFunction({
      name: "empty-module",
      executorType: "wamr",
      payload: emptyModule,
    });
    assert.match(accepted, /^function-/);
    await owner.frontend.rpc.deleteFunction({ functionId: accepted });
  });

  async function runWithInput(
    path: string,
    cmac: Buffer,
  ): Promise<{ status: TaskStatus; reason: string; inputId: string }> {
    const inputId = await alice.frontend.registerInputFile(pathToFileURL(path).href, cmac, aes128);
    const exposed = await alice.frontend.registerInputFile(
      "data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9",
      Buffer.from("e84748f7ad380e183062b9b4b3942b7d", "hex"),
      aes128,
    );
    const taskId = await alice.frontend.createTask({
      functionId: passwordCheck,
      inputsOwnership: { password: ["alice"], exposed_passwords: ["alice"] },
    });
    await alice.frontend.assignData(taskId, {
      inputs: { password: inputId, exposed_passwords: exposed },
    });
    await alice.frontend.invokeTask(taskId);
    for (;;) {
      const task = await alice.frontend.getTask(taskId);
      if (task.status === TaskStatus.Finished || task.status === TaskStatus.Failed) {
        const reason = task.result?.result.case === "Err" ? task.result.result.value.reason : "";
        return { status: task.status, reason, inputId };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test("tampered ciphertext fails the task and harms nothing", async () => {
    const plain = join(files, "secret.txt");
    await writeFile(plain, "hunter2-secret-plaintext\n");
    const encrypted = join(files, "secret.enc");
    const cmac = await encryptLocalFile(aes128, plain, encrypted);
    const bytes = await readFile(encrypted);
    bytes[3] = bytes[3]! ^ 0x01;
    await writeFile(encrypted, bytes);
    const result = await runWithInput(encrypted, cmac);
    assert.equal(result.status, TaskStatus.Finished);
    assert.match(result.reason, /integrity|tag|authentic/i);
    assert.doesNotMatch(result.reason, /hunter2/);
    const stored = await alice.frontend.rpc.getInputFile({ dataId: result.inputId });
    assert.deepEqual(Buffer.from(stored.cmac), cmac);
  });

  test("a wrong cmac fails the task", async () => {
    const plain = join(files, "other.txt");
    await writeFile(plain, "password\n");
    const encrypted = join(files, "other.enc");
    const cmac = await encryptLocalFile(aes128, plain, encrypted);
    const wrong = Buffer.from(cmac);
    wrong[0] = wrong[0]! ^ 0xff;
    const result = await runWithInput(encrypted, wrong);
    assert.match(result.reason, /integrity|cmac|tag/i);
    const good = await runWithInput(encrypted, cmac);
    assert.equal(good.reason, "");
  });

  test("file URLs cannot reach the platform's own files", async () => {
    const keyPath = join(platform.dataDirectory, "platform.key");
    const direct = await runWithInput(keyPath, Buffer.alloc(16));
    assert.match(direct.reason, /outside the directories/);
    const link = join(files, "innocent.txt");
    await symlink(keyPath, link);
    const viaLink = await runWithInput(link, Buffer.alloc(16));
    assert.match(viaLink.reason, /outside the directories/);
    const outside = await runWithInput("/etc/hostname", Buffer.alloc(16));
    assert.match(outside.reason, /outside the directories/);
  });

  test("file URL outputs stay inside the allowed directories", async () => {
    const join2 = await owner.frontend.registerFunction({
      name: "builtin-ordered-set-join",
      description: "",
      executorType: "builtin",
      public: true,
      arguments: ["left_column", "right_column", "ascending", "drop"].map((key) => ({
        key,
        defaultValue: "",
        allowOverwrite: true,
      })),
      inputs: [
        { name: "input_data1", description: "", optional: false },
        { name: "input_data2", description: "", optional: false },
      ],
      outputs: [{ name: "output_result", description: "", optional: false }],
    });
    const rows = join(files, "one-row.csv");
    await writeFile(rows, "1,a\n");
    const raw = { schema: "raw" as const };
    const input = await alice.frontend.registerInputFile(
      pathToFileURL(rows).href,
      new Uint8Array(16),
      raw,
    );
    const input2 = await alice.frontend.registerInputFile(
      pathToFileURL(rows).href,
      new Uint8Array(16),
      raw,
    );
    const planted = `/etc/cloister-planted-${randomUUID()}`;
    const output = await alice.frontend.registerOutputFile(pathToFileURL(planted).href, aes128);
    const taskId = await alice.frontend.createTask({
      functionId: join2,
      arguments: { left_column: 0, right_column: 0, ascending: true, drop: true },
      inputsOwnership: { input_data1: ["alice"], input_data2: ["alice"] },
      outputsOwnership: { output_result: ["alice"] },
    });
    await alice.frontend.assignData(taskId, {
      inputs: { input_data1: input, input_data2: input2 },
      outputs: { output_result: output },
    });
    await alice.frontend.invokeTask(taskId);
    await assert.rejects(alice.frontend.waitForTask(taskId), /outside the directories/);
    await assert.rejects(readFile(planted), { code: "ENOENT" });
  });

  test("the user's functions are unchanged after the rejections", async () => {
    const listed = await owner.frontend.rpc.listFunctions({ userId: "owner" });
    assert.ok(listed.registeredFunctions.includes(passwordCheck));
    assert.equal(listed.registeredFunctions.length, 2);
  });
});
