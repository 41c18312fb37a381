/**
 * `lanic-ca lab up|down|status`: the dev environment as a working CA on this machine, LAB ONLY
 * (scripts/lab/lab.ts, docs/adr/0065-lab-on-one-machine.md).
 */
import type { Command } from "commander";
import pc from "picocolors";

// The lab's runtime (./lab.js: PGlite, the signing services, SoftHSM) is imported when a lab
// command runs, as the ceremony runtime is (scripts/ceremony/cli.ts): loaded with every command,
// they cost `lanic-ca synth` more than 10 % (bench/synth.ts, ADR 0056).

/** A lab command that failed: the message is the whole story (the CLI prints it, exit 1). */
export class LabError extends Error {}

/** Exit 1 with the message (cli/main.ts exits with main's code: process.exitCode would be lost). */
function fail(err: unknown): never {
  throw new LabError(`lab: ${(err as Error).message}`);
}

export function registerLabCommands(program: Command): void {
  const lab = program.command("lab").description("LAB ONLY: run the dev environment as a working CA on this machine (SoftHSM, PGlite, every role on 127.0.0.1)");
  const dirOption = ["--dir <dir>", "the lab folder (keys, PINs, shares, database, logs: never for production)", ".lab"] as const;

  lab
    .command("up")
    .description("make the CA at the first run (tokens, unattended dev ceremonies, operator certificates), then start every role; prints the URLs and what to do next")
    .option(...dirOption)
    .option("--json", "print the state (ports, files, processes) as JSON")
    .action(async (opts: { dir: string; json?: boolean }) => {
      try {
        const { labUp, nextSteps } = await import("./lab.js");
        const say = opts.json ? () => undefined : (l: string) => process.stderr.write(`${l}\n`);
        const r = await labUp(opts.dir, say);
        if (opts.json) process.stdout.write(`${JSON.stringify({ dir: r.dir, created: r.created, ...r.state }, null, 2)}\n`);
        else process.stdout.write(`${pc.green("lab is up")} (${r.created ? "made now" : "started again"}) in ${r.dir}\n${nextSteps(r)}\n`);
      } catch (err) {
        fail(err);
      }
    });

  lab
    .command("down")
    .description("stop the processes the lab started (the CA is kept for the next `lab up`)")
    .option(...dirOption)
    .option("--purge", "also delete the lab folder (keys, PINs, shares, database)")
    .action(async (opts: { dir: string; purge?: boolean }) => {
      try {
        const { labDown } = await import("./lab.js");
        const r = await labDown(opts.dir, { purge: opts.purge });
        process.stdout.write(`${r.stopped.length ? `stopped: ${r.stopped.join(", ")}` : "nothing was running"}${r.purged ? "; lab folder deleted" : ""}\n`);
      } catch (err) {
        fail(err);
      }
    });

  lab
    .command("status")
    .description("what the lab runs: each process, its pid, URL and whether its port answers (exit 1 when something stopped)")
    .option(...dirOption)
    .option("--json", "print as JSON")
    .action(async (opts: { dir: string; json?: boolean }) => {
      try {
        const { labStatus } = await import("./lab.js");
        const s = await labStatus(opts.dir);
        if (opts.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        else if (!s.exists) process.stdout.write(`no lab in ${s.dir} (\`lanic-ca lab up\` makes one)\n`);
        else if (!s.services.length) process.stdout.write(`lab in ${s.dir}: stopped\n`);
        else
          for (const v of s.services)
            process.stdout.write(
              `${v.running ? pc.green("running") : pc.red("stopped")}  ${v.name.padEnd(16)} pid ${String(v.pid).padEnd(8)} ${v.url ?? ""}${v.listening === false && v.running ? pc.yellow(" (port not answering)") : ""}\n`,
            );
        const stopped = s.services.filter((v) => !v.running);
        if (stopped.length) throw new Error(`stopped: ${stopped.map((v) => `${v.name} (see ${v.log})`).join(", ")}`);
      } catch (err) {
        fail(err);
      }
    });
}
