/** Cloister's TypeScript SDK: typed clients of the authentication and frontend APIs. */
export { AuthenticationClient } from "./authentication-client.ts";
export { FrontendClient, TaskFailedError } from "./frontend-client.ts";
export type { CryptoInfo, TaskOutcome } from "./frontend-client.ts";
export type { ClientOptions, Credentials } from "./client-options.ts";
export { pinnedCertificateVerifier } from "./server-verification.ts";
export { TaskStatus } from "../gen/teaclave_common_pb.ts";
