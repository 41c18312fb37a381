/** Small helpers shared by the benchmarks: timing fresh processes, medians, ratio lines. */
import { spawnSync } from "node:child_process";

/** Wall time in ms of a fresh process (throws if it fails). */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.toString().slice(0, 2000)}`);
  return ms;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs each measurement `runs` times, interleaved (so machine noise hits all alike); medians. */
export function interleaved(runs: number, measures: Record<string, () => number>): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(measures).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [k, f] of Object.entries(measures)) samples[k].push(f());
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

/** One result line: `name: value unit (ratio x reference; target ...) PASS|MISS`. */
export function report(name: string, ratio: number, detail: string, target: { max?: number; min?: number }): boolean {
  const ok = (target.max === undefined || ratio <= target.max) && (target.min === undefined || ratio >= target.min);
  const t = target.max !== undefined ? `≤ ${target.max}` : `≥ ${target.min}`;
  console.log(`${name}: ratio ${ratio.toFixed(2)} (target ${t}) ${ok ? "MET" : "MISSED"} — ${detail}`);
  return ok;
}

export { freePort } from "@lanic-ca/pki-services/lab/ports";
