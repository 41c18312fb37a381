/** The `lanic-ca` program: its commands (synth, and those the extensions add) and `main`.
 *  The executable is cli/main.ts. */
import { createRequire } from "node:module";
import { config as zodConfig } from "zod";
import { ENVIRONMENT_NAMES, EnvironmentError, loadEnvironment } from "../environments/index.js";
import { synthesize } from "../stacks/synth.js";
import { COMMANDS, SYNTH_EXTENSIONS } from "./extensions.js";
const pc = createRequire(import.meta.url)("picocolors") as typeof import("picocolors"); // CommonJS: require (ADR 0053)
// CommonJS packages are loaded with require (ADR 0053: no export lexer pass).
const { Command, CommanderError } = createRequire(import.meta.url)("commander") as typeof import("commander");
type Command = import("commander").Command;

// A CLI run parses each definition, ceremony and exception file once: compiling zod's fast
// parsers (its JIT) costs more than it saves here (≈ 40 ms of the four environments' parse).
zodConfig({ jitless: true });

export function selectEnvironments(names: string[]) {
  const chosen = names.length > 0 ? names : ENVIRONMENT_NAMES;
  const errors: string[] = [];
  const envs = [];
  for (const n of chosen) {
    try {
      envs.push(loadEnvironment(n));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new CliError(errors.join("\n"));
  return envs;
}

/** An error whose message is the whole story (printed without a stack trace, exit 1). */
export class CliError extends Error {}

export function buildProgram(): Command {
  const program = new Command("lanic-ca")
    .description("The Lao government CA (LANIC) as code: synthesize, check and review its topology")
    .showHelpAfterError()
    .exitOverride();

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
        process.stdout.write(JSON.stringify(result, null, 2) + "\n");
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
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError || e instanceof EnvironmentError) {
      console.error(pc.red(e.message));
      return 1;
    }
    console.error(pc.red(`lanic-ca: ${(e as Error).stack ?? e}`));
    return 1;
  }
}
