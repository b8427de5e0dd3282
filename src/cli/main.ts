import { Command } from "commander";

/** Builds the `cloister` command with every subcommand registered. */
export function createProgram(): Command {
  const program = new Command("cloister")
    .description("Cloister: multi-party confidential computing, compatible with Apache Teaclave")
    .showHelpAfterError();
  return program;
}

/** Runs the CLI with process-style arguments (`argv[0]` is node, `argv[1]` the script). */
export async function main(argv: readonly string[]): Promise<void> {
  await createProgram().parseAsync([...argv]);
}
