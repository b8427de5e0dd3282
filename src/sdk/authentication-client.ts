import type { Client } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { TeaclaveAuthenticationApi } from "../gen/teaclave_authentication_service_pb.ts";
import type { ClientOptions, Credentials } from "./client-options.ts";
import { createClientTransport } from "./client-options.ts";

/**
 * Client of the authentication API (port 7776). `rpc` offers every RPC with Teaclave's
 * messages; the methods below are shortcuts for the common ones.
 */
export class AuthenticationClient {
  readonly rpc: Client<typeof TeaclaveAuthenticationApi>;
  readonly #credentials: Credentials = { id: "", token: "" };

  constructor(options: ClientOptions) {
    this.rpc = createClient(
      TeaclaveAuthenticationApi,
      createClientTransport(options, this.#credentials),
    );
  }

  /** Logs in, keeps the credentials for later calls, and returns them. */
  async login(id: string, password: string): Promise<Credentials> {
    const { token } = await this.rpc.userLogin({ id, password });
    this.setCredentials({ id, token });
    return { id, token };
  }

  setCredentials(credentials: Credentials): void {
    this.#credentials.id = credentials.id;
    this.#credentials.token = credentials.token;
  }

  async registerUser(id: string, password: string, role: string, attribute = ""): Promise<void> {
    await this.rpc.userRegister({ id, password, role, attribute });
  }

  async updateUser(id: string, password: string, role: string, attribute = ""): Promise<void> {
    await this.rpc.userUpdate({ id, password, role, attribute });
  }

  async changePassword(password: string): Promise<void> {
    await this.rpc.userChangePassword({ password });
  }

  /** Resets a user's password and returns the new one. */
  async resetPassword(id: string): Promise<string> {
    return (await this.rpc.resetUserPassword({ id })).password;
  }

  async deleteUser(id: string): Promise<void> {
    await this.rpc.deleteUser({ id });
  }

  /** Lists users: all for a PlatformAdmin, the DataOwners of `attribute` for its manager. */
  async listUsers(attribute = ""): Promise<string[]> {
    return (await this.rpc.listUsers({ id: attribute })).ids;
  }
}
