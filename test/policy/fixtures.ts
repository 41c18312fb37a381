/**
 * Policy fixtures: a shipped environment definition, deep-copied and mutated, built into a
 * topology, then checked with "now" pinned. Model- or resource-level mutations cover the
 * violations the schema or the constructs make impossible to write in an environment file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dev from "../../environments/dev.js";
import pilot from "../../environments/pilot.js";
import production from "../../environments/production.js";
import staging from "../../environments/staging.js";
import { parseEnvironment, type EnvironmentInput } from "../../environments/index.js";
import type { TopologyJson } from "../../constructs/model.js";
import { buildApp } from "../../stacks/synth.js";
import { evaluate, loadExceptions, SynthesizedResources, type PolicyResult } from "../../policy/index.js";
import type { PolicyException } from "../../policy/exceptions.js";
import type { StackJson } from "../../policy/resources.js";

export const NOW = new Date("2026-11-22T12:00:00Z");
export const DEFINITIONS = { dev, staging, production, pilot } as const;
export type EnvName = keyof typeof DEFINITIONS;

const outdirs: string[] = [];
export function cleanup(): void {
  for (const d of outdirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A deep copy of a shipped definition (mutable). */
export function definition(name: EnvName): EnvironmentInput {
  return structuredClone(DEFINITIONS[name]) as EnvironmentInput;
}

export interface Built {
  model: TopologyJson;
  stacks: Record<string, StackJson>;
}

/** Builds a (mutated) environment: its model and its synthesized stacks, as plain JSON. */
export function build(name: EnvName, mutate?: (d: EnvironmentInput) => void): Built {
  const def = definition(name);
  mutate?.(def);
  const env = parseEnvironment(def, `fixture:${name}`);
  const outdir = mkdtempSync(join(tmpdir(), "lanic-policy-test-"));
  outdirs.push(outdir);
  const { topologies } = buildApp([env], outdir);
  const t = topologies[0];
  return { model: structuredClone(t.model.toJSON()), stacks: structuredClone(SynthesizedResources.fromTopology(t).stacks) };
}

export interface CheckFixture {
  now?: Date;
  /** Exceptions (default: none, so every finding shows); added to the shipped ones if both. */
  exceptions?: PolicyException[];
  /** Use the environment's shipped exceptions file. */
  shippedExceptions?: boolean;
}

export function check(b: Built, o: CheckFixture = {}): PolicyResult {
  const shipped = o.shippedExceptions ? loadExceptions(b.model.environment.name, join(import.meta.dirname, "../../policy/exceptions")) : undefined;
  return evaluate(b.model, {
    resources: new SynthesizedResources(b.stacks),
    now: o.now ?? NOW,
    exceptions: [...(shipped?.exceptions ?? []), ...(o.exceptions ?? [])],
    exceptionsSource: shipped?.source,
    outputs: [...Object.keys(b.stacks).map((id) => `stacks/${id}/cdk.tf.json`), `topology/${b.model.environment.name}.json`],
  });
}

/** The open findings of one control. */
export function findingsOf(r: PolicyResult, id: string) {
  const x = r.results.find((y) => y.control.id === id);
  if (!x) throw new Error(`no control ${id} in the result`);
  return x.findings;
}

export function statusOf(r: PolicyResult, id: string) {
  return r.results.find((y) => y.control.id === id)!.status;
}

/** Resources of a type in a stack (mutable). */
export function resourcesOf(b: Built, stack: string, type: string): Record<string, Record<string, any>> {
  return (b.stacks[stack].resource![type] ?? {}) as Record<string, Record<string, any>>;
}

/** The resource whose construct path is `path`. */
export function resourceAt(b: Built, path: string): Record<string, any> {
  for (const tf of Object.values(b.stacks))
    for (const byName of Object.values(tf.resource ?? {})) for (const body of Object.values(byName)) if ((body as any)["//"]?.metadata?.path === path) return body as Record<string, any>;
  throw new Error(`no resource at ${path}`);
}

/** One control's passing and violating fixture (test/policy/controls.test.ts runs them). */
export interface Case {
  id: string;
  /** The environment that passes (and whose copy is mutated when `model` is given). */
  pass: EnvName;
  /** Violation through the environment definition… */
  env?: (d: any) => void;
  /** …or through the built model / synthesized stacks (what the schema cannot express). */
  model?: (b: Built) => void;
  now?: Date;
  /** Makes the passing fixture (default: the shipped environment as it is). */
  passModel?: (b: Built) => void;
  finding: string;
  found: string | RegExp;
}
