/**
 * Bench (ADR 0040): the diff of production against a changed production must take ≤ 25% of one
 * synth of production, both measured in this process (after one warm-up each, median of 5).
 * The diff reads both synthesized folders (topology model + Terraform stacks + policy files),
 * classifies and renders terminal, Markdown and JSON.
 *   node dist/bench/diff.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { stableStringify } from "../constructs/model.js";
import { parseEnvironment, type EnvironmentInput } from "../environments/index.js";
import production from "../environments/production.js";
import { runDiff } from "../review/cli.js";
import { renderMarkdown, renderTerminal } from "../review/render.js";
import { synthesize } from "../stacks/synth.js";

const LIMIT = 0.25;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), "bench-diff-"));
  try {
    const env = parseEnvironment(structuredClone(production), "environments/production.ts");
    const changedInput = structuredClone(production) as unknown as { images: { pkiServices: string }; ra: { governmentNetworks: string[] }; database: { instances: number }; workloads: { ra: { replicas: number } } };
    changedInput.images.pkiServices = `registry.lanic.gov.la/lanic-ca/pki-services@sha256:${"ef".repeat(32)}`;
    changedInput.ra.governmentNetworks = ["10.0.0.0/8"];
    changedInput.database.instances = 2;
    changedInput.workloads.ra.replicas = 1;
    const changed = parseEnvironment(changedInput as unknown as EnvironmentInput, "bench/changed-production");

    // Synth without extensions: the bare main job (diagrams would only make the ratio look better).
    const synthTimes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const out = join(tmp, `synth-${i}`);
      const t0 = performance.now();
      await synthesize([env], { outdir: out });
      if (i > 0) synthTimes.push(performance.now() - t0);
    }
    await synthesize([changed], { outdir: join(tmp, "changed") });

    const diffTimes: number[] = [];
    let summary = "";
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const report = await runDiff({ base: join(tmp, "synth-1"), head: join(tmp, "changed"), envs: ["production"] });
      renderTerminal(report, { color: false });
      renderMarkdown(report);
      stableStringify(report);
      if (i > 0) diffTimes.push(performance.now() - t0);
      summary = `${report.summary.high} high, ${report.summary.medium} medium, ${report.summary.low} low, ${report.summary.other} other, ${report.summary.stackResources} resources`;
    }
    const s = median(synthTimes),
      d = median(diffTimes);
    const ratio = d / s;
    console.log(`synth production (median of 5):              ${s.toFixed(1)} ms`);
    console.log(`diff production vs changed (median of 5):    ${d.toFixed(1)} ms   [${summary}]`);
    console.log(`ratio diff / synth: ${(ratio * 100).toFixed(1)}% (limit ${LIMIT * 100}%) ${ratio <= LIMIT ? "OK" : "TOO SLOW"}`);
    if (ratio > LIMIT) process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
