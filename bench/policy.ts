/**
 * Policy speed (the CP/CPS controls as a synthesize-time gate, ADR 0030).
 * 1. Gate cost: `synthesize()` of the four shipped environments with the policy gate against
 *    the same synth without it, in one process, interleaved. Target: the gate adds ≤ 25 %.
 *    Also printed: the checks alone (evaluate() over a built model and its Terraform JSON).
 * 2. Growth: check time of a generated 10× topology (30 issuing CAs, 10 sites) against a 1×
 *    one (3 issuing CAs, 1 site), per fact checked (components, flows, grants, resources):
 *    linear growth keeps the time per fact about constant. Target: ≤ 1.5× per fact.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENT_NAMES, loadEnvironment, parseEnvironment } from "../environments/index.js";
import { evaluate, SynthesizedResources } from "../policy/index.js";
import { policyExtension } from "../policy/extension.js";
import { loadExceptions } from "../policy/exceptions.js";
import { buildApp, synthesize } from "../stacks/synth.js";
import { generateEnvironment } from "./generate.js";
import { interleaved, median, report } from "./harness.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const work = mkdtempSync(join(tmpdir(), "lanic-bench-policy-"));
const exceptionsDir = join(import.meta.dirname, "../../policy/exceptions");
const now = new Date();
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function timeAsync(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

try {
  const envs = ENVIRONMENT_NAMES.map(loadEnvironment);
  const gate = policyExtension({ exceptionsDir, print: () => {} });
  // Warm up (module loading, JIT) before measuring.
  await synthesize(envs, { outdir: join(work, "warm"), extensions: [gate] });
  const samples: Record<string, number[]> = { plain: [], gated: [] };
  for (let i = 0; i < runs; i++) {
    samples.plain.push(await timeAsync(() => synthesize(envs, { outdir: join(work, "plain") })));
    samples.gated.push(await timeAsync(() => synthesize(envs, { outdir: join(work, "gated"), extensions: [gate] })));
  }
  const plain = median(samples.plain);
  const gated = median(samples.gated);

  // The checks alone, on built topologies (Terraform JSON computed beforehand).
  const built = buildApp(envs, join(work, "built")).topologies.map((t) => ({
    model: t.model.toJSON(),
    resources: SynthesizedResources.fromTopology(t),
    exceptions: loadExceptions(t.env.name, exceptionsDir).exceptions,
  }));
  const checks = interleaved(runs, {
    checks: () => {
      const t0 = performance.now();
      for (const b of built) evaluate(b.model, { resources: b.resources, exceptions: b.exceptions, now });
      return performance.now() - t0;
    },
  }).checks;
  console.log(`medians of ${runs} runs: synth (4 environments) ${ms(plain)}, with the policy gate ${ms(gated)}, checks alone ${ms(checks)}`);
  report("policy gate: added synth time", (gated - plain) / plain, `${ms(gated - plain)} added to ${ms(plain)}`, { max: 0.25 });
  report("policy checks alone vs synth", checks / plain, `${ms(checks)} vs ${ms(plain)}`, { max: 0.25 });

  // Growth: 1× vs 10×.
  const sized = (sites: number, cas: number) => {
    const env = parseEnvironment(generateEnvironment({ sites, issuingCas: cas, name: "production" }), `generated ${sites}:${cas}`);
    const t = buildApp([env], join(work, `gen-${sites}-${cas}`)).topologies[0];
    const model = t.model.toJSON();
    const resources = SynthesizedResources.fromTopology(t);
    const facts = model.components.length + model.flows.length + model.grants.length + model.keys.length + resources.all.length;
    return { model, resources, facts, exceptions: loadExceptions("production", exceptionsDir).exceptions };
  };
  const one = sized(1, 3);
  const ten = sized(10, 30);
  const g = interleaved(runs, {
    one: () => {
      const t0 = performance.now();
      evaluate(one.model, { resources: one.resources, exceptions: [], now });
      return performance.now() - t0;
    },
    ten: () => {
      const t0 = performance.now();
      evaluate(ten.model, { resources: ten.resources, exceptions: [], now });
      return performance.now() - t0;
    },
  });
  console.log(`1× (3 CAs, 1 site): ${one.facts} facts, ${ms(g.one)}; 10× (30 CAs, 10 sites): ${ten.facts} facts, ${ms(g.ten)}; time ${(g.ten / g.one).toFixed(1)}× for ${(ten.facts / one.facts).toFixed(1)}× the facts`);
  report("policy checks: time per fact, 10× vs 1×", g.ten / ten.facts / (g.one / one.facts), `${((g.ten / ten.facts) * 1000).toFixed(1)} µs vs ${((g.one / one.facts) * 1000).toFixed(1)} µs per fact`, { max: 1.5 });
} finally {
  rmSync(work, { recursive: true, force: true });
}
