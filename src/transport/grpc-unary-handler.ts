import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as http2Constants } from "node:http2";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter, ContextValues, HandlerContext } from "@connectrpc/connect";
// Connect marks these helpers internal, so package.json pins its exact version.
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { collectUnaryMethods, unaryHandlerContext } from "./unary-methods.ts";
import type { UnaryMethod } from "./unary-methods.ts";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

export interface GrpcUnaryHandlerOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Largest request and response message, in bytes. */
  readonly readMaxBytes: number;
  readonly writeMaxBytes: number;
  /** Largest `grpc-timeout` accepted, in milliseconds; a longer one gets INVALID_ARGUMENT. */
  readonly maxTimeoutMs: number;
  readonly contextValues: (request: NodeRequest) => ContextValues;
  /** Serves every request that is not plain unary gRPC: Connect, gRPC-Web, compression. */
  readonly fallback: (request: NodeRequest, response: NodeResponse) => void;
  /** Receives errors other than ConnectError, which the caller sees only as INTERNAL. */
  readonly onInternalError: (error: unknown, path: string) => void;
}

const envelopeHeaderBytes = 5;
const compressedFlag = 0b1;
const responseContentType = "application/grpc+proto";

/**
 * Creates a request handler that serves unary gRPC calls with binary protobuf and no
 * compression straight on the HTTP/2 stream. Teaclave's clients and Cloister's SDK send
 * these. Everything else goes to `fallback`, which is Connect's adapter.
 *
 * Connect's own gRPC handler runs each call through a pipeline of async iterables and
 * abort controllers. This path reads the one message, calls the implementation and writes
 * the reply. It sends the status codes and messages that Connect 2.1 sends for each
 * protocol error.
 */
export function createGrpcUnaryHandler(
  options: GrpcUnaryHandlerOptions,
): (request: NodeRequest, response: NodeResponse) => void {
  const methods = new Map(
    collectUnaryMethods(options.routes).map((entry) => [
      `/${entry.service.typeName}/${entry.method.name}`,
      entry,
    ]),
  );
  return (request, response) => {
    const entry =
      request.httpVersionMajor === 2 && request.method === "POST" && isPlainGrpc(request)
        ? methods.get(request.url ?? "")
        : undefined;
    if (entry === undefined) {
      options.fallback(request, response);
      return;
    }
    serveUnary(entry, request as Http2ServerRequest, response as Http2ServerResponse, options);
  };
}

function isPlainGrpc(request: NodeRequest): boolean {
  const contentType = request.headers["content-type"];
  const encoding = request.headers["grpc-encoding"];
  return (
    (contentType === "application/grpc" || contentType === "application/grpc+proto") &&
    (encoding === undefined || encoding === "identity")
  );
}

function serveUnary(
  entry: UnaryMethod,
  request: Http2ServerRequest,
  response: Http2ServerResponse,
  options: GrpcUnaryHandlerOptions,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let declared = -1;
  let responded = false;
  const clientGone = new AbortController();
  request.stream.once("close", () => {
    if (!responded)
      clientGone.abort(new ConnectError("the client closed the stream", Code.Canceled));
  });

  const respond = (
    context: HandlerContext | undefined,
    trailer: Headers,
    body: Uint8Array | undefined,
  ) => {
    if (responded) return;
    responded = true;
    if (request.stream.destroyed || request.stream.closed) return;
    response.writeHead(200, {
      "content-type": responseContentType,
      ...headersToObject(context?.responseHeader),
    });
    response.addTrailers(headersToObject(trailer));
    if (body === undefined) response.end();
    else response.end(body);
  };
  const fail = (error: unknown, context?: HandlerContext) => {
    if (!(error instanceof ConnectError)) options.onInternalError(error, request.url);
    const connectError =
      error instanceof ConnectError
        ? error
        : new ConnectError("internal error", Code.Internal, undefined, undefined, error);
    const trailer = new Headers(context?.responseTrailer);
    setTrailerStatus(trailer, connectError);
    respond(context, trailer, undefined);
  };

  // Rejects the call before the body has arrived. Reading stops, so HTTP/2 flow control
  // stops the client. Once the status is out, the stream is reset with NO_ERROR, which asks
  // the client to stop sending.
  const rejectEarly = (error: ConnectError) => {
    chunks.length = 0;
    request.off("data", onData);
    request.pause();
    // The compatibility layer's own "wantTrailers" listener runs first and sends the
    // trailers, and the reset follows them.
    request.stream.once("wantTrailers", () =>
      setImmediate(() => request.stream.close(http2Constants.NGHTTP2_NO_ERROR)),
    );
    fail(error);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    chunks.push(chunk);
    if (declared < 0 && received >= envelopeHeaderBytes) {
      declared = Buffer.concat(chunks, received).readUInt32BE(1);
      if (declared > options.readMaxBytes) {
        rejectEarly(
          new ConnectError(
            `message size ${declared} is larger than configured readMaxBytes ${options.readMaxBytes}`,
            Code.ResourceExhausted,
          ),
        );
      }
    } else if (
      declared >= 0 &&
      received > 2 * envelopeHeaderBytes + declared + options.readMaxBytes
    ) {
      // More than one message: a unary call takes exactly one.
      rejectEarly(
        new ConnectError(
          "protocol error: received extra input message for unary method",
          Code.Unimplemented,
        ),
      );
    }
  };
  request.on("data", onData);
  request.once("end", () => {
    if (responded) return;
    const body = Buffer.concat(chunks, received);
    invoke(entry, request, body, clientGone.signal, options)
      .then(
        ({ context, body: reply }) => {
          const trailer = new Headers(context.responseTrailer);
          trailer.set("grpc-status", "0");
          respond(context, trailer, reply);
        },
        (failure: { error: unknown; context?: HandlerContext }) =>
          fail(failure.error, failure.context),
      )
      // Writing the reply can still fail if the stream breaks meanwhile. That must not
      // become an unhandled rejection, which would end the process.
      .catch((error: unknown) => options.onInternalError(error, request.url));
  });
}

/** Decodes the request, calls the implementation and encodes the reply as one envelope. */
async function invoke(
  entry: UnaryMethod,
  request: Http2ServerRequest,
  body: Buffer,
  clientGone: AbortSignal,
  options: GrpcUnaryHandlerOptions,
): Promise<{ context: HandlerContext; body: Uint8Array }> {
  let context: HandlerContext | undefined;
  try {
    const timeout = parseTimeout(
      stringHeader(request.headers["grpc-timeout"]),
      options.maxTimeoutMs,
    );
    if (timeout.error !== undefined) throw timeout.error;
    context = handlerContext(entry, request, clientGone, timeout.timeoutMs, options);
    const input = decodeRequest(entry, readSingleEnvelope(body));
    const output = await entry.handler(input, context);
    const message = create(entry.method.output as DescMessage, output as never);
    const encoded = toBinary(entry.method.output as DescMessage, message);
    if (encoded.length > options.writeMaxBytes) {
      throw new ConnectError(
        `message size ${encoded.length} is larger than configured writeMaxBytes ${options.writeMaxBytes}`,
        Code.ResourceExhausted,
      );
    }
    const envelope = Buffer.allocUnsafe(envelopeHeaderBytes + encoded.length);
    envelope[0] = 0;
    envelope.writeUInt32BE(encoded.length, 1);
    envelope.set(encoded, envelopeHeaderBytes);
    return { context, body: envelope };
  } catch (error) {
    throw { error, context };
  }
}

function decodeRequest(entry: UnaryMethod, payload: Uint8Array) {
  try {
    return fromBinary(entry.method.input, payload, { readUnknownFields: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectError(`parse binary: ${reason}`, Code.Internal);
  }
}

/** Returns the payload of the only envelope in `body`, or raises Connect's protocol errors. */
function readSingleEnvelope(body: Buffer): Uint8Array {
  if (body.length === 0) {
    throw new ConnectError(
      "protocol error: missing input message for unary method",
      Code.Unimplemented,
    );
  }
  if (body.length < envelopeHeaderBytes) {
    throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  }
  const declared = body.readUInt32BE(1);
  const end = envelopeHeaderBytes + declared;
  if (body.length < end) {
    throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  }
  if (body.length > end) {
    const rest = body.subarray(end);
    const complete =
      rest.length >= envelopeHeaderBytes &&
      rest.length >= envelopeHeaderBytes + rest.readUInt32BE(1);
    throw complete
      ? new ConnectError(
          "protocol error: received extra input message for unary method",
          Code.Unimplemented,
        )
      : new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  }
  if ((body[0]! & compressedFlag) === compressedFlag) {
    throw new ConnectError(
      "received compressed envelope, but do not know how to decompress",
      Code.Internal,
    );
  }
  return body.subarray(envelopeHeaderBytes, end);
}

function handlerContext(
  entry: UnaryMethod,
  request: Http2ServerRequest,
  clientGone: AbortSignal,
  timeoutMs: number | undefined,
  options: GrpcUnaryHandlerOptions,
): HandlerContext {
  const requestHeader = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) requestHeader.append(name, item);
    else requestHeader.append(name, value);
  }
  return unaryHandlerContext(entry, {
    protocolName: "grpc",
    url: request.url,
    signal: clientGone,
    timeoutMs,
    requestHeader,
    values: options.contextValues(request),
  });
}

function stringHeader(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function headersToObject(headers: Headers | undefined): Record<string, string> {
  const object: Record<string, string> = {};
  headers?.forEach((value, name) => (object[name] = value));
  return object;
}
