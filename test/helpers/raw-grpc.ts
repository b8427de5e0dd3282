import http2 from "node:http2";

/** The gRPC status and message of a raw call. */
export interface RawGrpcResult {
  readonly status: number;
  readonly message: string;
}

/**
 * Sends one gRPC request with an arbitrary body, framed as given, to a loopback server. For
 * tests of what a well-behaved client library would never send.
 */
export function rawGrpcCall(options: {
  port: number;
  path: string;
  frame: Buffer;
  headers?: Record<string, string>;
}): Promise<RawGrpcResult> {
  return new Promise((resolve, reject) => {
    // The test talks to its own loopback server, whose certificate is self-signed.
    const session = http2.connect(`https://127.0.0.1:${options.port}`, {
      rejectUnauthorized: false,
    });
    session.on("error", reject);
    const request = session.request({
      ":method": "POST",
      ":path": options.path,
      "content-type": "application/grpc",
      te: "trailers",
      ...options.headers,
    });
    let status = -1;
    let message = "";
    const readStatus = (headers: http2.IncomingHttpHeaders) => {
      if (headers["grpc-message"] !== undefined) {
        message = decodeURIComponent(String(headers["grpc-message"]));
      }
      if (headers["grpc-status"] !== undefined) {
        status = Number(headers["grpc-status"]);
        // A server may send its status before it has read the whole body, for example when
        // the body is over its size limit. The rest of the upload is then abandoned.
        request.close(http2.constants.NGHTTP2_CANCEL);
        session.destroy();
        resolve({ status, message });
      }
    };
    request.on("response", readStatus);
    request.on("trailers", readStatus);
    request.on("data", () => {});
    request.on("error", reject);
    request.on("close", () => {
      session.close();
      resolve({ status, message });
    });
    request.end(options.frame);
  });
}

/** Frames a message as gRPC does: a compression flag and a 4-byte big-endian length. */
export function grpcFrame(body: Buffer, declaredLength = body.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, body]);
}
