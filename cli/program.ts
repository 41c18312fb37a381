/** The `lanic-ca` program: its commands (synth, and those the extensions add) and `main`.
 *  The executable is cli/main.ts. */
import { Command, CommanderError } from "commander";
import pc from "picocolors";
import { ENVIRONMENT_NAMES, EnvironmentError } from "../environments/index.js";
import { ExceptionsError } from "../policy/exceptions.js";
import { PolicyRefusal } from "../policy/extension.js";
import { ReviewError } from "../review/cli.js";
import { FailoverError } from "../scripts/continuity/failover.js";
import { LabError } from "../scripts/lab/cli.js";
import { synthesize } from "../stacks/synth.js";
import { ConstructError } from "../constructs/errors.js";
import { selectEnvironments } from "./environments.js";
import { CliError } from "./errors.js";
import { COMMANDS, SYNTH_EXTENSIONS } from "./extensions.js";

export { CliError };

/** Errors whose message is the whole story: printed without a stack trace. */
const TOLD = [CliError, EnvironmentError, ExceptionsError, ConstructError, PolicyRefusal, ReviewError, LabError, FailoverError];

export function buildProgram(): Command {
  const program = new Command("lanic-ca").description("The Lao government CA (LANIC) as code: synthesize, check and review its topology").showHelpAfterError().exitOverride();

  program
    .command("synth")
    .description("synthesize and check environments: Terraform JSON per site, topology model, policy reports, diagrams, firewall matrix, ceremony files (refused when an error-level CP/CPS control fails)")
    .argument("[env...]", `environments to synthesize (default: all: ${ENVIRONMENT_NAMES.join(", ")})`)
    .option("-o, --out <dir>", "output folder", "cdktf.out")
    .option("--json", "print the result as JSON")
    .action(async (names: string[], opts: { out: string; json?: boolean }) => {
      const envs = selectEnvironments(names);
      const result = await synthesize(envs, { outdir: opts.out, extensions: SYNTH_EXTENSIONS });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      for (const e of result.environments) {
        console.log(`${pc.green("✔")} ${pc.bold(e.name)}: ${e.stacks.length} stack(s), ${e.resources} resources`);
        for (const f of e.files) console.log(`    ${f}`);
      }
    });

  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    // A command that reports a refusal and returns sets process.exitCode (the ceremony
    // commands): the caller's process.exit(code) must not discard it.
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (TOLD.some((c) => e instanceof c)) {
      console.error(pc.red((e as Error).message));
      return 1;
    }
    console.error(pc.red(`lanic-ca: ${(e as Error).stack ?? e}`));
    return 1;
  }
}
