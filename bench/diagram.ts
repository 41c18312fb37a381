/**
 * Diagram speed (the diagram step of synth as the topology grows, ADR 0041): the topology diagram of a
 * generated 10× environment (30 issuing CAs, 10 sites) against production's, both drawn in the
 * same run. Each drawing runs in a fresh process, as synth draws it: Graphviz WASM
 * loaded (timed apart), then topologyDot + renderSvg once, on V8's baseline WASM compiler only
 * (baselineWasmOnly, as synth and `lanic-ca diagram` run it); for comparison also with V8's
 * default tiering, where the first layout pays for compiling Graphviz's hot functions. Runs
 * interleaved, medians. Also printed: the same drawing warm (a second time in one process).
 * Synth draws in the same process after it resolves the stacks (ADR 0056), so the drawing adds to
 * synth's time; it stays the minor part while it takes at most half of that job. The reference is
 * `synthesize()` of the same 10× environment without extensions, in this process (after a warm-up
 * run, so without process start and imports: a stricter reference than a whole synth).
 * Target: ≤ 0.5×. The growth from production's drawing is printed, without a target.
 *   node dist/bench/diagram.js
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TopologyJson } from "../constructs/model.js";
import { loadEnvironment, parseEnvironment } from "../environments/index.js";
import { baselineWasmOnly, renderSvg, topologyDot } from "../review/diagram.js";
import { buildApp, synthesize } from "../stacks/synth.js";
import { generateEnvironment } from "./generate.js";
import { median, report } from "./harness.js";

interface Drawing {
  load: number;
  dot: number;
  layout: number;
  warm: number;
  arrows: number;
  svgBytes: number;
  siteOrder: string[];
}

/** Child: draw one model (a JSON file) as a fresh process would, then once more warm. */
async function child(file: string, baseline: boolean): Promise<Drawing> {
  if (baseline) baselineWasmOnly();
  const model = JSON.parse(readFileSync(file, "utf8")) as TopologyJson;
  let t0 = performance.now();
  await renderSvg("digraph { a }"); // loads and instantiates the WASM
  const load = performance.now() - t0;
  t0 = performance.now();
  const dot = topologyDot(model);
  const t1 = performance.now();
  const svg = await renderSvg(dot);
  const t2 = performance.now();
  await renderSvg(topologyDot(model));
  const warm = performance.now() - t2;
  // Site frames top to bottom (SVG y grows downwards).
  const tops = [...svg.matchAll(/<title>cluster_site_([^<]+)<\/title>\s*<(?:path[^>]* d|polygon[^>]* points)="([^"]+)"/g)].map((m) => ({
    site: m[1].replace(/&#45;/g, "-"),
    top: Math.min(...[...m[2].matchAll(/-?[\d.]+,(-?[\d.]+)/g)].map((p) => Number(p[1]))),
  }));
  return {
    load,
    dot: t1 - t0,
    layout: t2 - t1,
    warm,
    arrows: dot.split("\n").filter((l) => l.includes(" -> ") && !l.includes("style=invis")).length,
    svgBytes: svg.length,
    siteOrder: tops.sort((a, b) => a.top - b.top).map((t) => t.site),
  };
}

function model(env: ReturnType<typeof loadEnvironment>, dir: string): TopologyJson {
  return buildApp([env], dir).topologies[0].model.toJSON();
}

async function main() {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const work = mkdtempSync(join(tmpdir(), "lanic-bench-diagram-"));
  try {
    const files = {
      production: join(work, "production.json"),
      "10×": join(work, "gen.json"),
    };
    const prod = model(loadEnvironment("production"), join(work, "out-prod"));
    const genEnv = parseEnvironment(generateEnvironment({ sites: 10, issuingCas: 30, name: "production" }), "generated gen:10:30");
    const gen = model(genEnv, join(work, "out-gen"));
    writeFileSync(files.production, JSON.stringify(prod));
    writeFileSync(files["10×"], JSON.stringify(gen));
    const configs = { "baseline WASM": true, "default tiering": false };
    const samples: Record<string, Drawing[]> = {};
    for (let i = 0; i < runs; i++)
      for (const [config, baseline] of Object.entries(configs))
        for (const [name, file] of Object.entries(files)) {
          const r = spawnSync(process.execPath, [import.meta.filename, "--child", file, ...(baseline ? ["--baseline"] : [])], { encoding: "utf8" });
          if (r.status !== 0) throw new Error(`diagram child failed: ${r.stderr}`);
          (samples[`${config} ${name}`] ??= []).push(JSON.parse(r.stdout) as Drawing);
        }
    const med = (key: string, k: "load" | "dot" | "layout" | "warm") => median(samples[key].map((s) => s[k]));
    for (const [name, m] of [
      ["production", prod],
      ["10×", gen],
    ] as const) {
      const s = samples[`baseline WASM ${name}`][0];
      const expected = m.environment.sites.map((x) => x.name).sort((a, b) => (a === "lanic" ? -1 : b === "lanic" ? 1 : a < b ? -1 : 1));
      console.log(`${name}: ${m.components.length} components, ${m.flows.length} flows → ${s.arrows} arrows, SVG ${(s.svgBytes / 1e6).toFixed(2)} MB`);
      console.log(`  sites top to bottom: ${s.siteOrder.join(", ")}${s.siteOrder.join() === expected.join() ? "" : "  (NOT primary first, then backups by name)"}`);
      for (const config of Object.keys(configs)) {
        const key = `${config} ${name}`;
        console.log(
          `  ${config.padEnd(16)} fresh process: WASM load ${med(key, "load").toFixed(0)} ms, DOT ${med(key, "dot").toFixed(0)} ms, first layout ${med(key, "layout").toFixed(0)} ms; warm layout ${med(key, "warm").toFixed(0)} ms (medians of ${runs})`,
        );
      }
    }
    const synthRuns: number[] = [];
    for (let i = 0; i <= Math.min(runs, 3); i++) {
      const t0 = performance.now();
      await synthesize([genEnv], { outdir: join(work, `synth-${i}`) });
      if (i > 0) synthRuns.push(performance.now() - t0);
    }
    const synth10 = median(synthRuns);
    const drawing = (key: string) => med(key, "dot") + med(key, "layout");
    const d10 = drawing("baseline WASM 10×"),
      d1 = drawing("baseline WASM production");
    console.log(`synthesize() of the 10× environment, no extensions (warm, median of ${synthRuns.length}): ${synth10.toFixed(0)} ms`);
    console.log(`growth of the drawing, 10× vs production: ${(d10 / d1).toFixed(1)}× (${d10.toFixed(0)} ms vs ${d1.toFixed(0)} ms; ${(gen.components.length / prod.components.length).toFixed(0)}× the components)`);
    const ok = report("diagram 10× (DOT + first layout, fresh process) vs synth of the 10× environment", d10 / synth10, `${d10.toFixed(0)} ms vs ${synth10.toFixed(0)} ms`, { max: 0.5 });
    if (!ok) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") process.stdout.write(JSON.stringify(await child(process.argv[3], process.argv[4] === "--baseline")));
else await main();
