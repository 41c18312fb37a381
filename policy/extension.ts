/**
 * The policy in the `lanic-ca` command: the synth gate (a SynthExtension that refuses an
 * error-level finding and prints the report first: cdktf prints nothing when it throws) and
 * `lanic-ca check [env…]`, which runs the same checks alone.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { ENVIRONMENT_NAMES } from "../environments/definitions.js";
import type { Environment } from "../environments/schema.js";
import type { CaTopology } from "../stacks/ca-topology.js";
import { buildApp, type SynthExtension } from "../stacks/synth.js";
import { checkWithExceptions, givenExceptions, type CheckOptions } from "./check.js";
import { loadExceptions } from "./exceptions.js";
import { checkTopology } from "./index.js";
import { jsonReport } from "./report/json.js";
import { junitReport } from "./report/junit.js";
import { markdownReport, traceabilityMatrix } from "./report/markdown.js";
import { sarifReport } from "./report/sarif.js";
import { terminalReport } from "./report/terminal.js";
import { refuses } from "./run.js";
import type { PolicyResult } from "./types.js";

/** An error whose message is the whole story (the report was printed before). */
export class PolicyRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyRefusal";
  }
}

/** The report files of one environment, relative to the output folder. */
export function reportFiles(r: PolicyResult): { path: string; content: string }[] {
  const e = r.environment;
  return [
    { path: `policy/${e}.md`, content: markdownReport(r) },
    { path: `policy/${e}.json`, content: jsonReport(r) },
    { path: `policy/${e}.sarif`, content: sarifReport([r]) },
    { path: `policy/${e}.junit.xml`, content: junitReport([r]) },
  ];
}

function writeFiles(outdir: string, files: { path: string; content: string }[]) {
  for (const f of files) {
    mkdirSync(dirname(join(outdir, f.path)), { recursive: true });
    writeFileSync(join(outdir, f.path), f.content);
  }
}

export interface PolicyExtensionOptions extends Omit<CheckOptions, "resources" | "shareWithSynth"> {
  /** Where the terminal summary goes. @default process.stderr */
  readonly print?: (text: string) => void;
}

/** What `lanic-ca check` receives from the CLI (cli/extensions.ts). */
export interface PolicyContext {
  /** The named environments (all when none), validated. */
  selectEnvironments(names: string[]): Environment[];
}

/** The synth gate. */
export function policyExtension(options: PolicyExtensionOptions = {}): SynthExtension {
  const results = new Map<string, PolicyResult>();
  let order: string[] = [];
  const print = options.print ?? ((t: string) => process.stderr.write(t));
  return {
    name: "policy",
    beforeWrite(topologies: CaTopology[], outdir: string) {
      results.clear();
      order = topologies.map((t) => t.env.name);
      // Given (tests) > read from `exceptionsDir` (default policy/exceptions/).
      for (const t of topologies) {
        const exceptions = givenExceptions(t.env.name, options) ?? loadExceptions(t.env.name, options.exceptionsDir);
        results.set(t.env.name, checkWithExceptions(t, exceptions, { ...options, shareWithSynth: true }));
      }
      const all = order.map((n) => results.get(n)!);
      print(terminalReport(all, !!process.stderr.isTTY));
      const refused = all.filter(refuses);
      if (refused.length > 0) {
        // Keep the reports of a refused synth (CI uploads the SARIF), but no stack.
        writeFiles(outdir, refused.flatMap(reportFiles));
        throw new PolicyRefusal(
          `lanic-ca synth: refused by the CP/CPS policy: ${refused.map((r) => `${r.environment} (${r.counts.errors} error${r.counts.errors === 1 ? "" : "s"})`).join(", ")}; reports in ${join(outdir, "policy")}/`,
        );
      }
    },
    files(t: CaTopology) {
      const r = results.get(t.env.name);
      if (!r) return [];
      const files = reportFiles(r);
      if (t.env.name === order[order.length - 1]) files.push({ path: "policy/traceability.md", content: traceabilityMatrix(order.map((n) => results.get(n)!)) });
      return files;
    },
  };
}

/** `lanic-ca check [env…]`. */
export function registerPolicyCommands(program: Command, context: PolicyContext): void {
  program
    .command("check")
    .description("check environments against the CP/CPS controls (the synth gate, without writing the stacks)")
    .argument("[env...]", `environments to check (default: all: ${ENVIRONMENT_NAMES.join(", ")})`)
    .option("-f, --format <format>", "terminal | json | sarif | junit | markdown | matrix", "terminal")
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .option("--exceptions <dir>", "folder of <env>.yaml exception files", "policy/exceptions")
    .option("--now <date>", "evaluate as of this date (YYYY-MM-DD; BR 6.3.2 dates, exception expiry)")
    .action(async (names: string[], opts: { format: string; output?: string; exceptions: string; now?: string }) => {
      const envs = context.selectEnvironments(names);
      const now = opts.now ? new Date(`${opts.now}T12:00:00Z`) : new Date();
      if (Number.isNaN(now.getTime())) throw new PolicyRefusal(`--now: '${opts.now}' is not a date (YYYY-MM-DD)`);
      const { topologies } = buildApp(envs, join(process.cwd(), "cdktf.out"));
      const results = topologies.map((t) => checkTopology(t, { now, exceptionsDir: opts.exceptions }));
      const render: Record<string, () => string> = {
        terminal: () => terminalReport(results, !opts.output && !!process.stdout.isTTY),
        json: () => (results.length === 1 ? jsonReport(results[0]) : `[\n${results.map(jsonReport).join(",\n")}]\n`),
        sarif: () => sarifReport(results),
        junit: () => junitReport(results),
        markdown: () => results.map(markdownReport).join("\n"),
        matrix: () => traceabilityMatrix(results),
      };
      const fn = render[opts.format];
      if (!fn) throw new PolicyRefusal(`--format: '${opts.format}' is not one of ${Object.keys(render).join(", ")}`);
      const text = fn();
      if (opts.output) writeFiles(".", [{ path: opts.output, content: text }]);
      else process.stdout.write(text);
      const refused = results.filter(refuses);
      if (refused.length) throw new PolicyRefusal(`lanic-ca check: ${refused.map((r) => `${r.environment}: ${r.counts.errors} error(s)`).join(", ")}`);
    });
}
