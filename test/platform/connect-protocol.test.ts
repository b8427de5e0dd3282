import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { startTestPlatform } from "../helpers/test-platform.ts";
import type { TestPlatform } from "../helpers/test-platform.ts";

/** Posts Connect-protocol JSON over HTTP/1.1, as curl or a browser would. */
function postJson(
  port: number,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const outgoing = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        // The test talks to its own loopback server, whose certificate is self-signed.
        rejectUnauthorized: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          ...headers,
        },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, json: JSON.parse(text || "{}") }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

describe("Connect protocol with JSON", () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform({ executorWorkers: 0 });
  });
  after(() => platform.dispose());

  test("login and a call with id and token headers", async () => {
    const login = await postJson(
      platform.platform.authenticationPort,
      "/teaclave_authentication_service_proto.TeaclaveAuthenticationApi/UserLogin",
      { id: "admin", password: "teaclave" },
    );
    assert.equal(login.status, 200);
    assert.equal(typeof login.json["token"], "string");
    const listed = await postJson(
      platform.platform.frontendPort,
      "/teaclave_frontend_service_proto.TeaclaveFrontend/ListFunctions",
      { userId: "admin" },
      { id: "admin", token: String(login.json["token"]) },
    );
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json, {});
  });

  test("errors come back as Connect error JSON", async () => {
    const denied = await postJson(
      platform.platform.frontendPort,
      "/teaclave_frontend_service_proto.TeaclaveFrontend/GetTask",
      { taskId: "task-x" },
    );
    assert.equal(denied.status, 401);
    assert.equal(denied.json["code"], "unauthenticated");
  });
});
