/**
 * The main job: environment definitions → construct tree → Terraform JSON per site, the
 * normalised topology model, the firewall matrix and the ceremony inputs, all under one output
 * folder. Deterministic: the same input gives byte-identical files.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import "./fast-tokens.js";
import { App } from "../constructs/cdktf.js";
import { CaTopology } from "./ca-topology.js";
import { stableStringify, type TopologyJson } from "../constructs/model.js";
import type { Environment } from "../environments/schema.js";

export interface SynthOptions {
  /** Output folder. @default "cdktf.out" */
  readonly outdir?: string;
  /** Extensions: the policy gate, reports, diagrams, ceremony files (see cli/extensions.ts). */
  readonly extensions?: SynthExtension[];
}

/** A step other parts of the project add to synth. */
export interface SynthExtension {
  readonly name: string;
  /** Runs after the construct tree is built and before anything is written; throwing refuses
   *  the synth (the policy gate). */
  readonly beforeWrite?: (topologies: CaTopology[], outdir: string) => void | Promise<void>;
  /** Extra files per environment, relative to the output folder. */
  readonly files?: (topology: CaTopology) => { path: string; content: string }[] | Promise<{ path: string; content: string }[]>;
}

export interface SynthResult {
  outdir: string;
  environments: { name: string; stacks: string[]; resources: number; files: string[] }[];
}

/** Builds the construct tree of every environment in one cdktf App (no files written). */
export function buildApp(envs: Environment[], outdir: string): { app: App; topologies: CaTopology[] } {
  const app = new App({ outdir, stackTraces: false, hclOutput: false, skipValidation: false });
  const topologies = envs.map((env) => new CaTopology(app, env.name, { environment: env }));
  return { app, topologies };
}

function firewallCsv(model: TopologyJson): string {
  const esc = (s: string | number) => (/[",\n]/.test(String(s)) ? `"${String(s).replace(/"/g, '""')}"` : String(s));
  const rows = model.firewall.map((r) => [r.site, r.direction, r.source, r.destination, r.protocol, r.port, r.purpose].map(esc).join(","));
  return `${["site,direction,source,destination,protocol,port,purpose", ...rows].join("\n")}\n`;
}

/** `LANIC_CA_TRACE=1`: each step of synth with the process's elapsed milliseconds, on stderr. */
const trace = process.env.LANIC_CA_TRACE ? (step: string) => process.stderr.write(`lanic-ca synth: ${step} at ${performance.now().toFixed(0)} ms\n`) : () => undefined;

export async function synthesize(envs: Environment[], options: SynthOptions = {}): Promise<SynthResult> {
  const outdir = options.outdir ?? "cdktf.out";
  const extensions = options.extensions ?? [];
  trace("start");
  const { app, topologies } = buildApp(envs, outdir);
  trace("construct tree built");
  for (const x of extensions) {
    await x.beforeWrite?.(topologies, outdir);
    if (x.beforeWrite) trace(`${x.name}: before write`);
  }

  // Start from a clean slate for the environments synthesized, so nothing stale survives.
  for (const t of topologies) {
    for (const s of t.stacks) rmSync(join(outdir, "stacks", s.node.id), { recursive: true, force: true });
    for (const dir of ["ceremonies", "policy", "diagrams"]) rmSync(join(outdir, dir, t.env.name), { recursive: true, force: true });
  }
  mkdirSync(outdir, { recursive: true });
  app.synth();
  trace("stacks written");

  const result: SynthResult = { outdir, environments: [] };
  for (const t of topologies) {
    const model = t.model.toJSON();
    const files: { path: string; content: string }[] = [
      { path: `topology/${t.env.name}.json`, content: stableStringify(model) },
      { path: `firewall/${t.env.name}.csv`, content: firewallCsv(model) },
      ...(t.offlineRoot ? [{ path: `ceremonies/${t.env.name}/ceremony-inputs.json`, content: stableStringify(t.offlineRoot.ceremonyInputs) }] : []),
    ];
    for (const x of extensions) if (x.files) files.push(...(await x.files(t)));
    trace(`${t.env.name}: files collected`);
    for (const f of files) {
      const full = join(outdir, f.path);
      mkdirSync(join(full, ".."), { recursive: true });
      writeFileSync(full, f.content);
    }
    const stacks = t.stacks.map((s) => s.node.id);
    // The JSON just written (shared by the gate, ADR 0031; computed again without it).
    const resources = t.stacks.reduce((n, s) => {
      const tf = s.toTerraform() as { resource?: Record<string, Record<string, unknown>> };
      return n + Object.values(tf.resource ?? {}).reduce((m, byName) => m + Object.keys(byName).length, 0);
    }, 0);
    result.environments.push({
      name: t.env.name,
      stacks,
      resources,
      files: [...stacks.map((id) => `stacks/${id}/cdk.tf.json`), ...files.map((f) => f.path)].map((p) => relative(".", join(outdir, p))),
    });
  }
  return result;
}
