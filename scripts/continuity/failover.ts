/**
 * `lanic-ca failover <env> --to <site>`: turns the environment's backup site into its primary
 * (and, run again with the old primary, back). It edits one thing in environments/<env>.ts:
 * the `role` of the two sites. The next synth then promotes the backup site's replica clusters
 * (CloudNativePG replica → primary), scales its standby signing services up, resumes its CRL
 * CronJobs, and makes the old primary's clusters replicas of the new one; the security officer
 * reviews exactly that with `lanic-ca diff` (class `failover`) before it is applied
 * (docs/runbooks/failover.md; BR 5.7.1.1 (2)-(4) emergency, fallback and resumption).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { DEFINITIONS, unknownEnvironment } from "../../environments/definitions.js";
import type { EnvironmentInput } from "../../environments/schema.js";

/** A failover that cannot be written: the message is the whole story (the CLI prints it, exit 1). */
export class FailoverError extends Error {}

export interface FailoverPlan {
  readonly environment: string;
  readonly from: string;
  readonly to: string;
  /** The environment file's new text. */
  readonly text: string;
}

/**
 * The environment file with `to` as primary and the current primary as backup. Refuses a site
 * that is not a backup site of the environment, a target without replication addresses (the old
 * primary's clusters stream from them), and a file whose site entries it cannot find verbatim.
 */
export function planFailover(file: string, text: string, env: EnvironmentInput, to: string): FailoverPlan {
  const primary = env.sites.find((s) => s.role === "primary");
  const target = env.sites.find((s) => s.name === to);
  if (!target) throw new FailoverError(`${file}: no site '${to}' in environment '${env.name}'; sites: ${env.sites.map((s) => s.name).join(", ")}`);
  if (!primary || target.role !== "backup") throw new FailoverError(`${file}: site '${to}' is already the primary of '${env.name}'; nothing to fail over`);
  if (!env.database.replicationAddresses?.[to]) throw new FailoverError(`${file}: database.replicationAddresses.${to} is missing: the '${primary.name}' clusters would have nothing to stream from after the failover`);
  const roleOf = (name: string, role: string) => new RegExp(`(name:\\s*"${name}",\\s*role:\\s*)"${role}"`, "g");
  const swaps: [RegExp, string][] = [
    [roleOf(primary.name, "primary"), "backup"],
    [roleOf(to, "backup"), "primary"],
  ];
  let out = text;
  for (const [re, role] of swaps) {
    const n = out.match(re)?.length ?? 0;
    if (n !== 1)
      throw new FailoverError(
        `${file}: expected one site entry '${re.source
          .replace(/\\s\*|\\/g, " ")
          .replace(/\s+/g, " ")
          .trim()}', found ${n}; edit the sites' roles by hand`,
      );
    out = out.replace(re, `$1"${role}"`);
  }
  return { environment: env.name, from: primary.name, to, text: out };
}

export function registerContinuityCommands(program: Command): void {
  program
    .command("failover")
    .description(
      "make a backup site the primary (replica promoted, standbys scaled up, CronJobs resumed) or, with the old primary, fail back: edits environments/<env>.ts; review with `lanic-ca diff` (docs/runbooks/failover.md)",
    )
    .argument("<env>", "environment")
    .requiredOption("--to <site>", "the site that becomes the primary")
    .option("--dir <dir>", "folder of the environment definitions", "environments")
    .option("--dry-run", "print the plan, change nothing")
    .action((name: string, opts: { to: string; dir: string; dryRun?: boolean }) => {
      const env = DEFINITIONS[name];
      if (!env) throw new FailoverError(unknownEnvironment(name));
      const file = join(opts.dir, `${name}.ts`);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        throw new FailoverError(`${file}: cannot read the definition of '${name}' (run from the repository root or give --dir)`);
      }
      const plan = planFailover(file, text, env, opts.to);
      if (!opts.dryRun) writeFileSync(file, plan.text);
      console.log(`${opts.dryRun ? "would make" : "made"} '${plan.to}' the primary of '${plan.environment}' and '${plan.from}' its backup site (${file}).`);
      console.log(
        `Next: npm run build && lanic-ca diff --base <ref before this change> ${plan.environment}   (class 'failover': two-person approval), then apply the '${plan.to}' stack first (docs/runbooks/failover.md).`,
      );
    });
}
