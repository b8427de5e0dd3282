/** Cloister's TypeScript SDK: typed clients of the authentication and frontend APIs. */
export { AuthenticationClient } from "./authentication-client.ts";
export { FrontendClient, TaskFailedError } from "./frontend-client.ts";
export type { CryptoInfo, TaskOutcome } from "./frontend-client.ts";
export type { ClientOptions, Credentials } from "./client-options.ts";
export { attestedServerVerifier, pinnedCertificateVerifier } from "./server-verification.ts";
export type { AttestationExpectation } from "./server-verification.ts";
export { TaskStatus } from "../gen/teaclave_common_pb.ts";
export { simulationVerifier, simulationVerifierFromDataDirectory } from "./platform-verifier.ts";
export { decryptFile, encryptFile, generateFileCrypto, parseFileCrypto } from "../files/index.ts";
export type { FileCrypto } from "../files/index.ts";
