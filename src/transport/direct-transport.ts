import { create } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { ConnectRouter, ContextValues, Transport, UnaryResponse } from "@connectrpc/connect";
import { collectUnaryMethods, unaryHandlerContext } from "./unary-methods.ts";

/**
 * Creates a transport that calls the service implementations of this process directly: the same
 * handlers as over the network, with request and response messages passed as objects
 * instead of being encoded, framed and decoded. Only unary methods are supported.
 *
 * Messages are not copied, so neither side may change a message after the call.
 */
export function createDirectTransport(routes: (router: ConnectRouter) => void): Transport {
  const handlers = new Map(collectUnaryMethods(routes).map((entry) => [entry.method, entry]));

  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethod & { input: I; output: O },
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0] | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const entry = handlers.get(method);
      if (entry === undefined) {
        throw new ConnectError(
          `unknown method ${method.parent.typeName}/${method.name}`,
          Code.Unimplemented,
        );
      }
      const context = unaryHandlerContext(entry, {
        protocolName: "in-process",
        url: `/${method.parent.typeName}/${method.name}`,
        signal,
        timeoutMs,
        requestHeader: new Headers(header),
        values: contextValues ?? createContextValues(),
      });
      const request = create(method.input, input);
      const output = (await entry.handler(request, context)) as MessageInitShape<O>;
      return {
        stream: false,
        service: method.parent,
        method: method as never,
        header: context.responseHeader,
        message: create(method.output, output),
        trailer: context.responseTrailer,
      } as UnaryResponse<I, O>;
    },
    stream() {
      throw new ConnectError("streaming calls are not supported in process", Code.Unimplemented);
    },
  };
}
