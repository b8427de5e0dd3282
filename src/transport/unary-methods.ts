import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";

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
