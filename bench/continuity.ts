/**
 * Recovery time (docs/runbooks/failover.md; BR 5.7.1.1), with the real parts of the continuity
 * drill (images/pki-services/src/lab/drill.ts: two PostgreSQL 15 servers, SoftHSM2, the issuing CA
 * as its own process):
 *
 *   failover: the LANIC primary killed mid-issuance → replica promoted, keys restored, services
 *             started at the backup site → first certificate issued there (the drill's RTO);
 *   PITR:     the CA database restored from the base backup and the WAL archive to the restore
 *             point before a bad change (the WAL replayed includes every seeded row).
 *
 * Each is measured with an (almost) empty database and with `--rows` (default 100,000) issued
 * certificates loaded by one bulk INSERT, in the same run. Reported: the recovery time per
 * 100,000 certificates (the difference of the two runs, scaled), and the recovery time at that
 * size as a ratio of each environment's RTO (`continuity.rtoHours`): target ≤ 1. Small and large
 * runs are interleaved `--runs` times (medians), so the shared machine's noise hits both alike.
 * Usage: node dist/bench/continuity.js [--rows 100000] [--runs 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runFailoverDrill, runPitr } from "@lanic-ca/pki-services/lab/drill";
import { ENVIRONMENT_NAMES, loadEnvironment } from "../environments/index.js";
import { median, report } from "./harness.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "100000" }, runs: { type: "string", default: "3" } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs ${values.runs}: expected a positive integer`);
const ROWS = Number(values.rows);
if (!Number.isInteger(ROWS) || ROWS < 10_000) throw new Error(`--rows ${values.rows}: expected an integer of at least 10000`);
const PER = 100_000;

async function inTemp<T>(prefix: string, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `bench-continuity-${prefix}-`));
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const production = loadEnvironment("production");

/** The drill's RTO (kill → first certificate at the backup site) and its failover part
 *  (promote → issuing CA started at the backup site), in seconds. */
async function drill(seedRows: number): Promise<{ rto: number; failover: number; rows: number }> {
  return inTemp("drill", async (dir) => {
    const r = await runFailoverDrill({ dir, environment: production.name, targets: production.continuity, before: 40, after: 10, seedRows });
    if (!r.ok)
      throw new Error(
        `the drill failed: ${r.checks
          .filter((c) => !c.ok)
          .map((c) => `${c.check}: ${c.detail}`)
          .join("; ")}`,
      );
    const at = (s: string) => r.steps.find((x) => x.step.startsWith(s))?.t;
    const promoted = at("backup site: replica promoted");
    const started = at("backup site: issuing CA started");
    if (promoted === undefined || started === undefined) throw new Error(`the drill's steps changed: ${r.steps.map((s) => s.step).join(" | ")}`);
    return { rto: r.rto.measuredSeconds, failover: (started - promoted) / 1000, rows: r.databaseRows };
  });
}

async function pitr(rows: number): Promise<{ seconds: number; rows: number }> {
  return inTemp("pitr", async (dir) => {
    const r = await runPitr({ dir, rows });
    if (r.rowsRestored !== rows || !r.auditOk) throw new Error(`PITR restored ${r.rowsRestored} of ${rows} rows, audit chain ${r.auditOk ? "ok" : "broken"}`);
    return { seconds: r.restoreSeconds, rows: r.rowsRestored };
  });
}

type Sample = { drill: Awaited<ReturnType<typeof drill>>; pitr: Awaited<ReturnType<typeof pitr>> };
const samples: { small: Sample[]; large: Sample[] } = { small: [], large: [] };
for (let i = 0; i < RUNS; i++) {
  samples.small.push({ drill: await drill(0), pitr: await pitr(1000) });
  samples.large.push({ drill: await drill(ROWS), pitr: await pitr(ROWS) });
}
const med = (xs: Sample[]): Sample => ({
  drill: { rto: median(xs.map((x) => x.drill.rto)), failover: median(xs.map((x) => x.drill.failover)), rows: xs[0].drill.rows },
  pitr: { seconds: median(xs.map((x) => x.pitr.seconds)), rows: xs[0].pitr.rows },
});
const small = med(samples.small);
const large = med(samples.large);
console.log(`${RUNS} run(s) each, medians`);
const per = (big: number, little: number, bigRows: number, littleRows: number) => ((big - little) / (bigRows - littleRows)) * PER;

console.log(
  `failover drill: RTO ${small.drill.rto.toFixed(1)} s with ${small.drill.rows} rows, ${large.drill.rto.toFixed(1)} s with ${large.drill.rows} rows` +
    ` (promote → services started: ${small.drill.failover.toFixed(1)} s / ${large.drill.failover.toFixed(1)} s)`,
);
console.log(
  `  per ${PER.toLocaleString("en")} certificates: +${per(large.drill.rto, small.drill.rto, large.drill.rows, small.drill.rows).toFixed(2)} s RTO, +${per(large.drill.failover, small.drill.failover, large.drill.rows, small.drill.rows).toFixed(2)} s promote → started`,
);
console.log(`point-in-time restore: ${small.pitr.seconds.toFixed(1)} s with ${small.pitr.rows} rows, ${large.pitr.seconds.toFixed(1)} s with ${large.pitr.rows} rows`);
console.log(`  per ${PER.toLocaleString("en")} certificates: +${per(large.pitr.seconds, small.pitr.seconds, large.pitr.rows, small.pitr.rows).toFixed(2)} s`);

// Against each environment's RTO: the recovery at 100,000 certificates (scaled from --rows).
let ok = true;
const scaled = (s: { small: number; large: number; smallRows: number; largeRows: number }) => s.small + per(s.large, s.small, s.largeRows, s.smallRows) * ((PER - s.smallRows) / PER);
const drillAt = scaled({ small: small.drill.rto, large: large.drill.rto, smallRows: small.drill.rows, largeRows: large.drill.rows });
const pitrAt = scaled({ small: small.pitr.seconds, large: large.pitr.seconds, smallRows: small.pitr.rows, largeRows: large.pitr.rows });
for (const name of ENVIRONMENT_NAMES) {
  const rto = loadEnvironment(name).continuity.rtoHours * 3600;
  const pct = (s: number) => `${s.toFixed(1)} s = ${((100 * s) / rto).toFixed(3)} % of the RTO`;
  ok = report(`${name} failover at ${PER.toLocaleString("en")} certificates vs RTO ${rto / 3600} h`, drillAt / rto, pct(drillAt), { max: 1 }) && ok;
  ok = report(`${name} point-in-time restore at ${PER.toLocaleString("en")} certificates vs RTO ${rto / 3600} h`, pitrAt / rto, pct(pitrAt), { max: 1 }) && ok;
}
// Targets are reported, not asserted (bench/run.ts); a failed drill or restore throws above.
void ok;
