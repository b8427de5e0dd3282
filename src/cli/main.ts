import { Command } from "commander";
import { registerDecryptCommand } from "./commands/decrypt.ts";
import { registerEncryptCommand } from "./commands/encrypt.ts";
import { registerFunctionRunCommand } from "./commands/function-run.ts";
import { registerServeCommand } from "./commands/serve.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerEvidenceCommand } from "./commands/evidence.ts";
import { registerVerifyCommand } from "./commands/verify.ts";
import { registerAttestCommand } from "./commands/attest.ts";
import { registerUserCommand } from "./commands/user.ts";
import { registerAdminCommand } from "./commands/admin.ts";

/** Builds the `cloister` command with every subcommand registered. */
export function createProgram(): Command {
  const program = new Command("cloister")
    .description("Cloister: multi-party confidential computing, compatible with Apache Teaclave")
    .showHelpAfterError();
  registerFunctionRunCommand(program);
  registerServeCommand(program);
  registerDemoCommand(program);
  registerEvidenceCommand(program);
  registerVerifyCommand(program);
  registerAttestCommand(program);
  registerEncryptCommand(program);
  registerDecryptCommand(program);
  registerUserCommand(program);
  registerAdminCommand(program);
  return program;
}

/** Runs the CLI with process-style arguments (`argv[0]` is node, `argv[1]` the script). */
export async function main(argv: readonly string[]): Promise<void> {
  await createProgram().parseAsync([...argv]);
}
