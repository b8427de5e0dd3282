import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ContextValues, HandlerContext } from "@connectrpc/connect";

/** A service implementation's method, called with a request message and a handler context. */
export type UnaryHandler = (request: unknown, context: unknown) => Promise<unknown> | unknown;

/** One unary method of a service implementation. */
export interface UnaryMethod {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly handler: UnaryHandler;
}

/**
 * Collects the unary methods that `routes` registers with `router.service(...)`. Streaming
 * methods and methods the implementation leaves out are skipped.
 */
export function collectUnaryMethods(routes: (router: ConnectRouter) => void): UnaryMethod[] {
  const methods: UnaryMethod[] = [];
  const collector = {
    service(service: DescService, implementation: Record<string, UnaryHandler>) {
      for (const method of service.methods) {
        const handler = implementation[method.localName];
        if (handler !== undefined && method.methodKind === "unary") {
          methods.push({ service, method, handler: handler.bind(implementation) });
        }
      }
      return collector;
    },
  };
  routes(collector as unknown as ConnectRouter);
  return methods;
}

/** The signal of calls made without one. Nothing ever aborts it. */
const neverAborted = new AbortController().signal;

/**
 * Builds the handler context of one unary call. Connect's own `createHandlerContext`
 * creates a deadline controller and a linked abort controller for every call, which showed
 * in profiles of the echo benchmark. This one passes the caller's signal through and adds a
 * timer only when a timeout is set.
 */
export function unaryHandlerContext(
  entry: UnaryMethod,
  call: {
    readonly protocolName: string;
    readonly url: string;
    readonly signal: AbortSignal | undefined;
    readonly timeoutMs: number | undefined;
    readonly requestHeader: Headers;
    readonly values: ContextValues;
  },
): HandlerContext {
  let signal = call.signal ?? neverAborted;
  let remainingMs = (): number | undefined => undefined;
  if (call.timeoutMs !== undefined) {
    const deadline = Date.now() + call.timeoutMs;
    remainingMs = () => deadline - Date.now();
    // gRPC timeouts may be fractions of a millisecond (units u and n), and timers take whole
    // ones.
    const timeout = AbortSignal.timeout(Math.ceil(call.timeoutMs));
    signal = call.signal === undefined ? timeout : AbortSignal.any([call.signal, timeout]);
  }
  return {
    service: entry.service,
    method: entry.method,
    signal,
    timeoutMs: remainingMs,
    requestMethod: "POST",
    requestHeader: call.requestHeader,
    responseHeader: new Headers(),
    responseTrailer: new Headers(),
    protocolName: call.protocolName,
    values: call.values,
    url: call.url,
  };
}
