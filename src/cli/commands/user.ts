import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { ConnectError } from "@connectrpc/connect";
import { AuthenticationClient } from "../../sdk/authentication-client.ts";
import { simulationVerifierFromDataDirectory } from "../../sdk/platform-verifier.ts";

interface ConnectionOptions {
  address: string;
  dataDir: string;
  id: string;
}

const passwordVariable = "CLOISTER_PASSWORD";
const newPasswordVariable = "CLOISTER_NEW_PASSWORD";

/** Logs in as the acting user; its password comes from CLOISTER_PASSWORD. */
async function connect(options: ConnectionOptions): Promise<AuthenticationClient> {
  const password = process.env[passwordVariable];
  if (password === undefined || password === "") {
    throw new UsageError(`set ${passwordVariable} to the password of ${options.id}`);
  }
  const client = new AuthenticationClient({
    address: options.address,
    verifyServer: await simulationVerifierFromDataDirectory(options.dataDir),
  });
  await client.login(options.id, password);
  return client;
}

class UsageError extends Error {}

/** Returns the password for a new or updated account: CLOISTER_NEW_PASSWORD, or a generated one. */
function newPassword(): { password: string; generated: boolean } {
  const configured = process.env[newPasswordVariable];
  if (configured !== undefined && configured !== "")
    return { password: configured, generated: false };
  return { password: randomBytes(18).toString("base64url"), generated: true };
}

/** Runs one subcommand, mapping failures to exit code 2 (usage) or 1 (rejected). */
function action<T extends unknown[]>(run: (...args: T) => Promise<void>) {
  return async (...args: T) => {
    try {
      await run(...args);
    } catch (error) {
      const message =
        error instanceof ConnectError
          ? `${error.rawMessage} (${error.code})`
          : String((error as Error).message ?? error);
      process.stderr.write(`cloister user: ${message}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    }
  };
}

/**
 * `cloister user ...`: account administration against a running platform. Passwords travel
 * in environment variables, never on the command line where other users could see them.
 */
export function registerUserCommand(program: Command): void {
  const user = program
    .command("user")
    .description(
      `Manage accounts on a running platform; the acting user's password comes from ${passwordVariable}`,
    )
    .option("--address <host:port>", "authentication API address", "127.0.0.1:7776")
    .option(
      "--data-dir <path>",
      "the platform's data directory, for the simulation key and code measurement to verify",
      ".cloister",
    )
    .option("--id <user>", "acting user", "admin");
  const connection = (): ConnectionOptions => user.opts<ConnectionOptions>();

  user
    .command("register <id> <role> [attribute]")
    .description(
      `Register an account (role PlatformAdmin, FunctionOwner, DataOwnerManager or DataOwner); ` +
        `its password is ${newPasswordVariable} or a generated one, printed once`,
    )
    .action(
      action(async (id: string, role: string, attribute: string | undefined) => {
        const client = await connect(connection());
        const { password, generated } = newPassword();
        await client.registerUser(id, password, role, attribute ?? "");
        console.log(generated ? `registered ${id}; password: ${password}` : `registered ${id}`);
      }),
    );

  user
    .command("update <id> <role> [attribute]")
    .description(`Replace an account's role and password (${newPasswordVariable} or generated)`)
    .action(
      action(async (id: string, role: string, attribute: string | undefined) => {
        const client = await connect(connection());
        const { password, generated } = newPassword();
        await client.updateUser(id, password, role, attribute ?? "");
        console.log(generated ? `updated ${id}; password: ${password}` : `updated ${id}`);
      }),
    );

  user
    .command("list [attribute]")
    .description("List accounts: all for a PlatformAdmin, a group's DataOwners for its manager")
    .action(
      action(async (attribute: string | undefined) => {
        const client = await connect(connection());
        for (const id of await client.listUsers(attribute ?? "")) console.log(id);
      }),
    );

  user
    .command("reset-password <id>")
    .description("Give an account a new random password and print it")
    .action(
      action(async (id: string) => {
        const client = await connect(connection());
        console.log(await client.resetPassword(id));
      }),
    );

  user
    .command("change-password")
    .description(`Change the acting user's password to ${newPasswordVariable}`)
    .action(
      action(async () => {
        const replacement = process.env[newPasswordVariable];
        if (replacement === undefined || replacement === "") {
          throw new UsageError(`set ${newPasswordVariable} to the new password`);
        }
        const client = await connect(connection());
        await client.changePassword(replacement);
        console.log("password changed; log in again");
      }),
    );

  user
    .command("delete <id>")
    .description("Delete an account")
    .action(
      action(async (id: string) => {
        const client = await connect(connection());
        await client.deleteUser(id);
        console.log(`deleted ${id}`);
      }),
    );
}
