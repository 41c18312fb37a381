/**
 * Synth speed (docs/adr/0056).
 * 1. `lanic-ca synth` of all four environments as a fresh process, against the floor: a fresh
 *    node process that only loads cdktf and the provider modules the stacks use, with `require`
 *    as synth loads them (the floor with ES `import` is printed too). Target ≤ 3×.
 * 2. Each speed device that remains, turned off: the same synth run from a copy of dist/ in which
 *    that one device is undone. A device stays only while it alone saves ≥ 10 % of synth time
 *    (the time it removes, as a share of the synth without it).
 * 3. Growth: a generated topology ten times larger (30 issuing CAs, 10 sites) against
 *    production, both fresh processes. Target ≤ 4×.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { median, report, timeProcess } from "./harness.js";

const root = resolve(import.meta.dirname, "../..");
const dist = join(root, "dist");
const cli = join(dist, "bin/lanic-ca.js"); // what users run (package.json "bin")
const one = join(dist, "bench/synth-one.js");
const work = mkdtempSync(join(tmpdir(), "lanic-bench-synth-"));
// Inside dist/, so the copies resolve packages from the project's node_modules as dist/ does.
const variants = mkdtempSync(join(dist, ".bench-variants-"));
const runs = Number(process.env.BENCH_RUNS ?? 7);
const require = createRequire(import.meta.url);

/**
 * Wall and CPU time (user + system, all threads) in ms of a fresh process, from GNU time. The
 * machine is shared: wall times of one command vary by ±20 % between runs, its CPU time far less,
 * so the devices are judged on CPU time (the wall time is printed beside it).
 */
function timed(args: string[]): { wall: number; cpu: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "lanic-bench-time %e %U %S", "node", ...args], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const line = r.stderr.split("\n").find((l) => l.startsWith("lanic-bench-time "));
  if (r.status !== 0 || !line) throw new Error(`node ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
  const [wall, user, sys] = line.split(" ").slice(1).map(Number);
  return { wall: wall * 1000, cpu: (user + sys) * 1000 };
}

/** Each measure `runs` times, interleaved (machine noise hits all alike); medians of wall and CPU. */
function interleavedTimes(n: number, measures: Record<string, string[]>): Record<string, { wall: number; cpu: number }> {
  const samples: Record<string, { wall: number[]; cpu: number[] }> = Object.fromEntries(Object.keys(measures).map((k) => [k, { wall: [], cpu: [] }]));
  for (let i = 0; i < n; i++)
    for (const [k, args] of Object.entries(measures)) {
      const t = timed(args);
      samples[k].wall.push(t.wall);
      samples[k].cpu.push(t.cpu);
    }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { wall: median(v.wall), cpu: median(v.cpu) }]));
}

/** The compiled trees `lanic-ca synth` loads (copied for each variant). */
const TREES = ["bin", "cli", "constructs", "environments", "policy", "review", "scripts", "stacks"];

/** A copy of dist/ with one device undone: `patch` rewrites the copy's compiled files. */
function variant(name: string, patch: (dir: string) => void): string {
  const dir = join(variants, name);
  for (const t of TREES) cpSync(join(dist, t), join(dir, t), { recursive: true });
  patch(dir);
  return join(dir, "bin/lanic-ca.js");
}

/** Replaces `from` (which must occur) in a compiled file of a variant. */
function replaceIn(file: string, from: string, to: string): void {
  const text = readFileSync(file, "utf8");
  if (!text.includes(from)) throw new Error(`${file}: '${from}' not found: the device moved; update bench/synth.ts`);
  writeFileSync(file, text.replace(from, to));
}

try {
  // The provider modules actually used, read from a synthesized output.
  timeProcess("node", [cli, "synth", "--out", join(work, "probe")]);
  if (!existsSync("/usr/bin/time")) throw new Error("bench/synth.ts needs GNU time (/usr/bin/time) for CPU times");
  const types = new Set<string>();
  for (const d of readdirSync(join(work, "probe/stacks"))) {
    const tf = JSON.parse(readFileSync(join(work, "probe/stacks", d, "cdk.tf.json"), "utf8"));
    for (const t of Object.keys(tf.resource ?? {})) types.add(t.replace(/^kubernetes_/, "").replace(/_/g, "-"));
  }
  const providerModules = [...types, "provider"].sort().map((m) => `@cdktf/provider-kubernetes/lib/${m}/index.js`);
  const modules = ["constructs", "cdktf", ...providerModules];
  const floorImport = join(variants, "floor-import.mjs");
  writeFileSync(floorImport, modules.map((m) => `await import("${m}");\n`).join(""));
  const floorRequire = join(variants, "floor-require.cjs");
  writeFileSync(floorRequire, modules.map((m) => `require("${m}");\n`).join(""));
  console.log(`floor loads constructs, cdktf and ${providerModules.length} provider modules: ${[...types].sort().join(", ")}, provider`);

  // The devices, each undone in its own copy of dist/.
  // `part` marks a part of a device, printed for information: the device is judged as a whole.
  const noCreationStacks = (d: string) => replaceIn(join(d, "stacks/fast-tokens.js"), "stackTrace.captureStackTrace = () => [];", "");
  const noFastResolve = (d: string) => replaceIn(join(d, "stacks/fast-tokens.js"), "\nuseFastResolve(true);", "\nuseFastResolve(false);");
  const noSharedFragments = (d: string) => replaceIn(join(d, "stacks/fast-tokens.js"), "export function shareFragments(stack, fn) {", "export function shareFragments(stack, fn) {\n    return fn();");
  const devices: Record<string, { what: string; cli: string; part?: true }> = {
    fastTokens: {
      what: "fast-tokens: no token creation stacks, the plain-data resolver, each fragment built and resolved once (stacks/fast-tokens.ts, ADR 0032)",
      cli: variant("no-fast-tokens", (d) => {
        for (const undo of [noCreationStacks, noFastResolve, noSharedFragments]) undo(d);
      }),
    },
    sharedFragments: {
      what: "fast-tokens' part: each fragment built and resolved once for the gate and synth (shareFragments, ADR 0032)",
      cli: variant("no-shared-fragments", noSharedFragments),
      part: true,
    },
    cdktfRequire: {
      what: "cdktf, constructs and the provider loaded with require (constructs/cdktf.ts, ADR 0056)",
      cli: await (async () => {
        // The same names, each re-exported from the package module that defines it (by identity).
        const ours = (await import(pathToFileURL(join(dist, "constructs/cdktf.js")).href)) as Record<string, unknown>;
        const lines = Object.entries(ours).map(([name, value]) => {
          const from = modules.find((m) => (require(m) as Record<string, unknown>)[name] === value);
          if (!from) throw new Error(`constructs/cdktf.js exports ${name}, found in none of ${modules.join(", ")}`);
          return `export { ${name} } from "${from}";\n`;
        });
        return variant("static-cdktf", (d) => writeFileSync(join(d, "constructs/cdktf.js"), lines.join("")));
      })(),
    },
    lazyRuntimes: {
      what: "the lab's and the ceremonies' runtimes imported when their command runs (scripts/lab/cli.ts, scripts/ceremony/cli.ts)",
      cli: variant("runtimes-at-start", (d) => {
        for (const [file, runtime] of [
          ["scripts/lab/cli.js", "./lab.js"],
          ["scripts/ceremony/cli.js", "./run.js"],
        ]) {
          const f = join(d, file);
          replaceIn(f, `import("${runtime}")`, `import("${runtime}")`); // still imported when run
          writeFileSync(f, `import "${runtime}";\n${readFileSync(f, "utf8")}`);
        }
      }),
    },
    graphvizBaseline: {
      what: "Graphviz's WASM on V8's baseline compiler (review/diagram.ts baselineWasmOnly)",
      cli: variant("graphviz-optimizing", (d) => replaceIn(join(d, "review/diagram.js"), `setFlagsFromString("--liftoff-only")`, "undefined")),
    },
  };

  const t = interleavedTimes(runs, {
    floorImport: [floorImport],
    floorRequire: [floorRequire],
    synthAll: [cli, "synth", "--out", join(work, "all")],
    ...Object.fromEntries(Object.entries(devices).map(([k, v]) => [k, [v.cli, "synth", "--out", join(work, k)]])),
    production: [one, "production", join(work, "prod")],
    tenfold: [one, "gen:10:30", join(work, "gen")],
  });
  const ms = (x: { wall: number; cpu: number }) => `${x.wall.toFixed(0)} ms (CPU ${x.cpu.toFixed(0)} ms)`;
  console.log(`medians of ${runs} interleaved runs: floor ${ms(t.floorRequire)}, with ES import ${ms(t.floorImport)}; synth all ${ms(t.synthAll)}, production ${ms(t.production)}, 10× ${ms(t.tenfold)}`);
  // The same files with every device off as on (a device must not change the output).
  const files = (dir: string) => readdirSync(join(work, dir), { recursive: true, encoding: "utf8" }).sort();
  for (const [k, d] of Object.entries(devices)) {
    for (const f of files("all")) {
      const [a, b] = [join(work, "all", f), join(work, k, f)];
      if (!statSync(a).isFile() || readFileSync(a).equals(readFileSync(b))) continue;
      throw new Error(`${d.what} changes ${f}`);
    }
    const saved = (x: "wall" | "cpu") => (t[k][x] - t.synthAll[x]) / t[k][x];
    const detail = `synth ${ms(t.synthAll)}, without it ${ms(t[k])}: ${(saved("cpu") * 100).toFixed(1)} % of the CPU time of the synth without it, ${(saved("wall") * 100).toFixed(1)} % of its wall time`;
    if (d.part) console.log(`saving of ${d.what} (no target of its own): ${detail}`);
    else report(`saving of ${d.what}`, saved("cpu"), detail, { min: 0.1 });
  }
  report("synth (4 environments) vs the cdktf + provider floor", t.synthAll.wall / t.floorRequire.wall, `${ms(t.synthAll)} vs ${ms(t.floorRequire)}; CPU time ratio ${(t.synthAll.cpu / t.floorRequire.cpu).toFixed(2)}`, {
    max: 3,
  });
  const count = (dir: string) =>
    readdirSync(join(dir, "stacks")).reduce((n, d) => {
      const tf = JSON.parse(readFileSync(join(dir, "stacks", d, "cdk.tf.json"), "utf8")) as { resource?: Record<string, object> };
      return n + Object.values(tf.resource ?? {}).reduce((m, r) => m + Object.keys(r).length, 0);
    }, 0);
  const [rp, rg] = [count(join(work, "prod")), count(join(work, "gen"))];
  console.log(`resources: production ${rp}, 10× topology ${rg} (${(rg / rp).toFixed(1)}×); cdktf's token resolution is linear in them and dominates both`);
  report(
    "10× topology vs production",
    t.tenfold.wall / t.production.wall,
    `${ms(t.tenfold)} vs ${ms(t.production)} (work beyond the floor: ${((t.tenfold.wall - t.floorRequire.wall) / (t.production.wall - t.floorRequire.wall)).toFixed(2)}×)`,
    { max: 4 },
  );
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(variants, { recursive: true, force: true });
}
