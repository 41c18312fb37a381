/**
 * `lanic-ca diff` and `lanic-ca diagram`, and the synth step that writes diagrams/<env>.svg.
 * Registered in cli/extensions.ts.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { stableStringify, type TopologyJson } from "../constructs/model.js";
import type { Environment } from "../environments/schema.js";
import { buildApp, synthesize, type SynthExtension } from "../stacks/synth.js";
import { baselineWasmOnly, synthDiagram, topologyDot, topologySvg } from "./diagram.js";
import { buildReport, type EnvironmentSnapshot } from "./diff.js";
import { environmentsIn, readSnapshot, synthesizeRef } from "./load.js";
import { renderMarkdown, renderTerminal } from "./render.js";
import { SEVERITY_ORDER, type DiffReport, type Note, type Severity } from "./types.js";

/** A refused review command: the message is the whole story (the CLI prints it, exit 1). */
export class ReviewError extends Error {}

/** What the review commands receive from the CLI (cli/extensions.ts). */
export interface ReviewContext {
  /** The named environments (all when none), validated. */
  selectEnvironments(names: string[]): Environment[];
  /** The steps `lanic-ca synth` runs (the head side of a diff is synthesized with them). */
  readonly synthExtensions: readonly SynthExtension[];
}

/** synth writes diagrams/<env>.svg next to the topology model. */
export const diagramExtension = (): SynthExtension => ({
  name: "diagrams",
  files: async (t) => [{ path: `diagrams/${t.env.name}.svg`, content: await synthDiagram(t.model.toJSON()) }],
});

const isSynthFolder = (p: string) => existsSync(join(p, "topology"));

export interface DiffOptions {
  /** The CLI's environments and synth steps: needed when the head is the work tree. */
  context?: ReviewContext;
  base: string;
  head?: string;
  envs: string[];
  repo?: string;
  npmCi?: boolean;
  log?: (s: string) => void;
}

/** Builds the report: `base` is a synthesized folder or a git ref; `head` a folder, or (default)
 *  the work tree synthesized now. */
export async function runDiff(o: DiffOptions): Promise<DiffReport> {
  const repo = resolve(o.repo ?? ".");
  const notes: Note[] = [];
  const cleanups: (() => void)[] = [];
  try {
    let baseDir: string,
      baseRoot: string | null = null,
      baseLabel: string;
    if (isSynthFolder(o.base)) {
      baseDir = o.base;
      baseLabel = o.base;
    } else {
      const r = synthesizeRef(repo, o.base, o.envs, { npmCi: o.npmCi, log: o.log });
      cleanups.push(r.cleanup);
      notes.push(...r.notes);
      baseDir = r.outdir;
      baseRoot = r.root;
      baseLabel = `${o.base} (${r.commit.slice(0, 12)})`;
    }
    let headDir: string,
      headRoot: string | null = null,
      headLabel: string;
    if (o.head) {
      if (!isSynthFolder(o.head)) throw new Error(`--head ${o.head}: not a synthesized folder (no topology/ inside); run \`lanic-ca synth -o ${o.head}\` first`);
      headDir = o.head;
      headLabel = o.head;
    } else {
      if (!o.context) throw new Error("runDiff: the head is the work tree, but no CLI context was given to synthesize it");
      const tmp = mkdtempSync(join(tmpdir(), "lanic-ca-head-"));
      cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
      o.log?.("work tree: synthesizing");
      const envs = o.context.selectEnvironments(o.envs);
      const extensions = o.context.synthExtensions;
      try {
        await synthesize(envs, { outdir: tmp, extensions: extensions.filter((x) => x.name !== "diagrams") });
      } catch (e) {
        // A refused synth (the policy gate) still deserves a review: diff it without the gate,
        // and say so. CI fails at its own synth step anyway.
        await synthesize(envs, { outdir: tmp, extensions: extensions.filter((x) => x.name !== "diagrams" && x.name !== "policy") });
        notes.push({ environment: null, message: `the work tree's synth was refused (${(e as Error).message.split("\n")[0]}); diffed without the policy gate, so head-side control results are missing` });
      }
      headDir = tmp;
      headRoot = repo;
      headLabel = "work tree";
    }
    const names = o.envs.length ? o.envs : [...new Set([...environmentsIn(baseDir), ...environmentsIn(headDir)])].sort();
    const pairs = names.map((n) => ({ base: readSnapshot(baseDir, n, baseRoot), head: readSnapshot(headDir, n, headRoot) }));
    const missing = pairs.filter((p) => !p.base && !p.head).map((_, i) => names[i]);
    if (missing.length) throw new Error(`no topology for ${missing.join(", ")} on either side (expected topology/<env>.json)`);
    return buildReport(baseLabel, headLabel, pairs as { base: EnvironmentSnapshot | null; head: EnvironmentSnapshot | null }[], notes);
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}

/** Diff diagrams: one SVG per changed environment. */
export async function writeDiffDiagrams(report: DiffReport, base: (env: string) => TopologyJson | null, head: (env: string) => TopologyJson | null, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const e of report.environments) {
    if (e.status === "unchanged") continue;
    const a = head(e.name) ?? base(e.name),
      b = base(e.name) ?? undefined;
    if (!a) continue;
    const file = join(dir, `${e.name}.diff.svg`);
    writeFileSync(file, await topologySvg(a, b ?? undefined));
    written.push(file);
  }
  return written;
}

export function exceedsThreshold(report: DiffReport, failOn: string): boolean {
  if (failOn === "none") return false;
  const t = failOn as Severity;
  return report.environments.some((e) => e.security.some((c) => c.direction !== "narrowing" && SEVERITY_ORDER[c.severity] >= SEVERITY_ORDER[t]));
}

export function registerReviewCommands(program: Command, context: ReviewContext): void {
  program
    .command("diff")
    .description("security review: what changed in the topology between two synthesized outputs, classified, with the approval it needs")
    .argument("[env...]", "environments (default: every environment on either side)")
    .requiredOption("-b, --base <dir|ref>", "the base: a synthesized folder (cdktf.out) or a git ref (synthesized in a temporary worktree)")
    .option("--head <dir>", "the head: a synthesized folder (default: synthesize the work tree now)")
    .option("-f, --format <format>", "terminal | markdown | json", "terminal")
    .option("--markdown <file>", "also write the Markdown (pull-request comment) here")
    .option("--json <file>", "also write the JSON report here")
    .option("--diagrams <dir>", "also write a diff diagram per changed environment (<env>.diff.svg) here")
    .option("--fail-on <severity>", "exit 1 when a widening change has at least this severity: high | medium | low | none", "none")
    .option("--marker <text>", "HTML comment put at the top of the Markdown (CI finds its own comment by it)", "lanic-ca-security-review")
    .option("--no-color", "no colour in terminal output")
    .option("--npm-ci", "run npm ci in the base worktree when its lockfile differs (default: reuse node_modules, with a note)")
    .action(async (envs: string[], opts: { base: string; head?: string; format: string; markdown?: string; json?: string; diagrams?: string; failOn: string; marker: string; color: boolean; npmCi?: boolean }) => {
      if (!["terminal", "markdown", "json"].includes(opts.format)) throw new ReviewError(`--format ${opts.format}: must be one of terminal, markdown, json`);
      if (!["high", "medium", "low", "none"].includes(opts.failOn)) throw new ReviewError(`--fail-on ${opts.failOn}: must be one of high, medium, low, none`);
      let report: DiffReport;
      let keepBase: string | null = null;
      try {
        const log = (s: string) => process.stderr.write(`lanic-ca diff: ${s}\n`);
        if (opts.diagrams && !isSynthFolder(opts.base)) {
          // Keep the synthesized base around for the diagrams: synthesize it into a folder first.
          const r = synthesizeRef(resolve("."), opts.base, envs, { npmCi: opts.npmCi, log });
          keepBase = mkdtempSync(join(tmpdir(), "lanic-ca-base-"));
          cpSync(r.outdir, keepBase, { recursive: true });
          r.cleanup();
          report = await runDiff({ context, base: keepBase, head: opts.head, envs, log });
          report.base = `${opts.base}`;
          report.notes.push(...r.notes);
        } else report = await runDiff({ context, base: opts.base, head: opts.head, envs, log });
        const md = renderMarkdown(report, { marker: opts.marker });
        if (opts.markdown) write(opts.markdown, md);
        if (opts.json) write(opts.json, stableStringify(report));
        if (opts.diagrams) {
          const read = (dir: string | null | undefined) => (env: string) => {
            const f = dir ? join(dir, "topology", `${env}.json`) : "";
            return f && existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as TopologyJson) : null;
          };
          const headDir = opts.head ?? null;
          let headRead = read(headDir);
          if (!headDir) {
            const appDir = mkdtempSync(join(tmpdir(), "lanic-ca-app-"));
            try {
              const models = buildApp(context.selectEnvironments(report.environments.filter((e) => e.status !== "removed").map((e) => e.name)), appDir).topologies.map((t) => t.model.toJSON());
              headRead = (env) => models.find((m) => m.environment.name === env) ?? null;
            } finally {
              rmSync(appDir, { recursive: true, force: true });
            }
          }
          for (const f of await writeDiffDiagrams(report, read(keepBase ?? opts.base), headRead, opts.diagrams)) process.stderr.write(`lanic-ca diff: wrote ${f}\n`);
        }
        if (opts.format === "json") process.stdout.write(stableStringify(report));
        else if (opts.format === "markdown") process.stdout.write(md);
        else process.stdout.write(renderTerminal(report, { color: opts.color && !!process.stdout.isTTY }));
      } catch (e) {
        if (e instanceof ReviewError) throw e;
        throw new ReviewError(`lanic-ca diff: ${(e as Error).message}`);
      } finally {
        if (keepBase) rmSync(keepBase, { recursive: true, force: true });
      }
      if (exceedsThreshold(report, opts.failOn))
        throw new ReviewError(
          `lanic-ca diff: changes at or above '${opts.failOn}' need approval by ${report.requiredApproval.level === "two-person" ? "two people (security officer + CA system administrator)" : report.requiredApproval.roles.join(", ") || "review"} (--fail-on ${opts.failOn})`,
        );
    });

  program
    .command("diagram")
    .description("draw the topology of environments as SVG (sites, zones, components, flows, HSMs, offline root); with --base, a diff diagram")
    .argument("[env...]", "environments (default: all)")
    .option("-o, --out <dir>", "output folder (files: <dir>/<env>.svg)", "cdktf.out/diagrams")
    .option("--from <dir>", "read topology/<env>.json from this synthesized folder instead of building the model now")
    .option("--base <dir>", "a synthesized folder to compare with: writes <env>.diff.svg")
    .option("--dot", "also write the Graphviz source (<env>.dot)")
    .action(async (names: string[], opts: { out: string; from?: string; base?: string; dot?: boolean }) => {
      baselineWasmOnly();
      let models: TopologyJson[];
      if (opts.from) {
        const envs = names.length ? names : environmentsIn(opts.from);
        models = envs.map((n) => {
          const f = join(opts.from!, "topology", `${n}.json`);
          if (!existsSync(f)) throw new ReviewError(`${f}: not found (run lanic-ca synth -o ${opts.from})`);
          return JSON.parse(readFileSync(f, "utf8")) as TopologyJson;
        });
      } else {
        const tmp = mkdtempSync(join(tmpdir(), "lanic-ca-diagram-"));
        try {
          models = buildApp(context.selectEnvironments(names), tmp).topologies.map((t) => t.model.toJSON());
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      }
      mkdirSync(opts.out, { recursive: true });
      for (const m of models) {
        const name = m.environment.name;
        let before: TopologyJson | undefined;
        if (opts.base) {
          const f = join(opts.base, "topology", `${name}.json`);
          if (existsSync(f)) before = JSON.parse(readFileSync(f, "utf8")) as TopologyJson;
        }
        const file = join(opts.out, `${name}${before ? ".diff" : ""}.svg`);
        writeFileSync(file, await topologySvg(m, before));
        if (opts.dot) writeFileSync(file.replace(/\.svg$/, ".dot"), topologyDot(m, before));
        console.log(file);
      }
    });
}

function write(file: string, content: string) {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, content);
}
