/**
 * Runs the benchmarks, each as its own process: `node dist/bench/run.js [name…]` (default: all).
 * Every benchmark prints its measurements and ratios against a reference measured in the same
 * run; targets are reported as MET or MISSED, never asserted (shared, noisy machines).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dirname;
const helpers = new Set(["run", "harness", "generate", "synth-one"]);
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".js") && !helpers.has(f.replace(/\.js$/, "")) && !f.startsWith("."))
  .map((f) => f.replace(/\.js$/, ""))
  .sort();
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
let failed = 0;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark '${name}'; available: ${all.join(", ")}`);
    process.exit(2);
  }
  console.log(`\n=== bench/${name}`);
  const r = spawnSync("node", [join(dir, `${name}.js`)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
