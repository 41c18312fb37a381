/**
 * Synth speed (issue: "The CA topology as cdktf constructs").
 * 1. `lanic-ca synth` of all four environments as a fresh process, against the floor: a fresh
 *    node process that only imports cdktf and the provider modules the stacks use. Target ≤ 2×.
 * 2. Growth: a generated topology ten times larger (30 issuing CAs, 10 sites) against
 *    production, both fresh processes. Target ≤ 4×.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { interleaved, report, timeProcess } from "./harness.js";

const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "dist/bin/lanic-ca.js"); // the bundle users run (scripts/bundle.ts)
const one = join(root, "dist/bench/synth-one.js");
const work = mkdtempSync(join(tmpdir(), "lanic-bench-synth-"));
const runs = Number(process.env.BENCH_RUNS ?? 5);

try {
  // The provider modules actually used, read from a synthesized output.
  timeProcess("node", [cli, "synth", "--out", join(work, "probe")]);
  const types = new Set<string>();
  for (const d of readdirSync(join(work, "probe/stacks"))) {
    const tf = JSON.parse(readFileSync(join(work, "probe/stacks", d, "cdk.tf.json"), "utf8"));
    for (const t of Object.keys(tf.resource ?? {})) types.add(t.replace(/^kubernetes_/, "").replace(/_/g, "-"));
  }
  const modules = ["cdktf", ...[...types, "provider"].sort().map((m) => `@cdktf/provider-kubernetes/lib/${m}/index.js`)];
  const floorScript = join(root, "dist/bench/.floor.mjs");
  writeFileSync(floorScript, modules.map((m) => `await import("${m}");\n`).join(""));
  // The same modules loaded the way synth loads them (require: no ES-import export lexer, ADR 0053).
  const floorRequireScript = join(root, "dist/bench/.floor-require.cjs");
  writeFileSync(floorRequireScript, modules.map((m) => `require("${m}");\n`).join(""));
  console.log(`floor imports cdktf + ${types.size + 1} provider modules: ${[...types].sort().join(", ")}, provider`);

  const t = interleaved(runs, {
    floor: () => timeProcess("node", [floorScript]),
    floorRequire: () => timeProcess("node", [floorRequireScript]),
    synthAll: () => timeProcess("node", [cli, "synth", "--out", join(work, "all")]),
    production: () => timeProcess("node", [one, "production", join(work, "prod")]),
    tenfold: () => timeProcess("node", [one, "gen:10:30", join(work, "gen")]),
  });
  // What a busy second thread costs this one on these cores: the floor's imports alone, and
  // while synth's side thread loads its modules (cli/main.ts starts it before cdktf loads).
  const probe = (mode: string) => {
    const r = spawnSync("node", [join(root, "dist/bench/synth-probe.js"), floorRequireScript, mode], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`synth-probe ${mode} failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  const p = interleaved(runs, { alone: () => probe("alone"), side: () => probe("side") });
  console.log(`cdktf + provider loaded (require): ${p.alone.toFixed(0)} ms alone, ${p.side.toFixed(0)} ms beside the side thread (${(p.side / p.alone).toFixed(2)}×)`);
  rmSync(floorScript, { force: true });
  rmSync(floorRequireScript, { force: true });
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`medians of ${runs} interleaved runs: floor ${ms(t.floor)} (require: ${ms(t.floorRequire)}), synth all ${ms(t.synthAll)}, production ${ms(t.production)}, 10× ${ms(t.tenfold)}`);
  report("synth (4 environments) vs cdktf import floor", t.synthAll / t.floor, `${ms(t.synthAll)} vs ${ms(t.floor)}`, { max: 2 });
  console.log(
    `synth vs the same modules loaded with require (as synth loads them; no target of its own): ${(t.synthAll / t.floorRequire).toFixed(2)} — ${ms(t.synthAll)} vs ${ms(t.floorRequire)}`,
  );
  const count = (dir: string) =>
    readdirSync(join(dir, "stacks")).reduce((n, d) => {
      const tf = JSON.parse(readFileSync(join(dir, "stacks", d, "cdk.tf.json"), "utf8")) as { resource?: Record<string, object> };
      return n + Object.values(tf.resource ?? {}).reduce((m, r) => m + Object.keys(r).length, 0);
    }, 0);
  const [rp, rg] = [count(join(work, "prod")), count(join(work, "gen"))];
  console.log(`resources: production ${rp}, 10× topology ${rg} (${(rg / rp).toFixed(1)}×); cdktf's token resolution is linear in them and dominates both`);
  report("10× topology vs production", t.tenfold / t.production, `${ms(t.tenfold)} vs ${ms(t.production)} (work beyond the floor: ${((t.tenfold - t.floor) / (t.production - t.floor)).toFixed(2)}×)`, { max: 4 });
} finally {
  rmSync(work, { recursive: true, force: true });
}
