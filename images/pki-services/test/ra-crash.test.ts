/**
 * A SIGKILL of the RA in the middle of a bulk issuance (ADR 0061): after the restart every
 * approved application is issued exactly once — one live certificate per application at the
 * issuing CA, the one the RA recorded. The RA runs as the real program (`pki-services ra
 * --backend`) on PostgreSQL 15; the issuing CA (SoftHSM, PostgreSQL) in this process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CP_PROFILES } from "../../../environments/cp.js";
import { IssuingCaServiceConfig, Profile } from "../src/config/schema.js";
import { serveIssuingCa } from "../src/issuing-ca/http.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { RA_MIGRATIONS } from "../src/ra/migrations.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr } from "./fixtures.js";
import { freePort, tempDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";
import { makeRaPki, raConfig } from "./ra-harness.js";

const MAIN = join(import.meta.dirname, "../dist/main.js");
const N = 60;

let tmp: ReturnType<typeof tempDir>;
let pgs: PgServer;
let caDb: Database;
let raDb: Database;
let issuing: IssuingCa;
let caSrv: { port: number; close(): Promise<void> };
let child: ChildProcess | undefined;

beforeAll(async () => {
  tmp = tempDir("ra-crash");
  pgs = await startPostgres();
  const admin = new pg.Client({ connectionString: pgs.url });
  await admin.connect();
  await admin.query("CREATE DATABASE ra");
  await admin.end();
  const pki = makeRaPki(tmp.dir);
  const ca = await createTestCa(tmp.dir);
  const cp = Object.fromEntries(Object.entries(CP_PROFILES).map(([n, p]) => [n, Profile.parse(p)]));
  caDb = await openDatabase({ url: pgs.url });
  issuing = await IssuingCa.start({
    config: IssuingCaServiceConfig.parse({ ...ca.config, profiles: cp }),
    db: caDb,
    pin: ca.hsm.pin,
    caCertificate: Buffer.from(ca.caCert.rawData),
    poolSize: 4,
    reconcileGraceSeconds: 0,
  });
  caSrv = await serveIssuingCa(issuing, { host: "127.0.0.1", port: 0, identity: { kind: "mtls", key: pki.caServer.key, cert: pki.caServer.cert, clientCa: pki.caPem } });
  const config = raConfig(pki, tmp.dir, `https://127.0.0.1:${caSrv.port}`, { issuanceConcurrency: 4 });
  writeFileSync(join(tmp.dir, "ra-config.json"), JSON.stringify(config));
  // N applications vetted by two people and approved with a CSR, not yet issued: the state a
  // bulk approval leaves for the issuance sweep.
  raDb = await openDatabase({ url: pgs.url.replace(/\/postgres$/, "/ra"), migrations: RA_MIGRATIONS });
  const csr = opensslCsr(tmp.dir, "ec:P-256", "/CN=holder");
  for (let i = 0; i < N; i++) {
    await raDb.query(
      `INSERT INTO ra_applications (id, kind, state, fields, csr, submitted_by, officer, approver, approved_at) VALUES ($1, 'organisation-signing', 'approved', $2, $3, 'C=LA,O=MTC,CN=Noy', 'C=LA,O=MTC,CN=A', 'C=LA,O=MTC,CN=B', now())`,
      [randomUUID(), JSON.stringify({ companyName: `Company ${i}`, legalName: `Company ${i} Co., Ltd.`, licenceNumber: `MTC-${1000 + i}`, licenceIssuer: "MTC", contactEmail: `c${i}@example.la`, country: "LA" }), csr],
    );
  }
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await raDb?.close();
  await caSrv?.close();
  await issuing?.stop();
  await caDb?.close();
  pgs?.stop();
  tmp?.cleanup();
});

async function startRaProcess(): Promise<ChildProcess> {
  const port = await freePort();
  const c = spawn(process.execPath, [MAIN, "ra", "--backend", "--config", join(tmp.dir, "ra-config.json"), "--db", pgs.url.replace(/\/postgres$/, "/ra"), "--listen", `127.0.0.1:${port}`, "--sweep-seconds", "1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  c.once("exit", (code, sig) => {
    if (code && code !== 0) console.error(`ra exited ${code} ${sig}: ${err}`);
  });
  return c;
}

const caIssued = async () => Number((await caDb.query<{ n: number }>("SELECT count(*)::int AS n FROM certificates WHERE status = 'issued'"))[0].n);
const raIssued = async () => Number((await raDb.query<{ n: number }>("SELECT count(*)::int AS n FROM ra_applications WHERE state = 'issued'"))[0].n);

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("SIGKILL mid-issuance, restart: every approved application issued exactly once", async () => {
  child = await startRaProcess();
  await until(async () => (await caIssued()) >= 8, 60_000, "the first issuances");
  child.kill("SIGKILL");
  await new Promise((r) => child!.once("exit", r));
  const atKill = { ca: await caIssued(), ra: await raIssued() };
  expect(atKill.ca, "killed in the middle: some issued, not all").toBeLessThan(N);
  child = await startRaProcess();
  await until(async () => (await raIssued()) === N, 90_000, "all applications issued after the restart");
  child.kill("SIGTERM");
  await new Promise((r) => child!.once("exit", r));
  child = undefined;

  const apps = await raDb.query<{ id: string; serial: string }>("SELECT id, serial FROM ra_applications ORDER BY id");
  const live = await caDb.query<{ idempotency_key: string; serial: string; n: number }>(
    "SELECT idempotency_key, min(serial) AS serial, count(*)::int AS n FROM certificates WHERE idempotency_key IS NOT NULL AND status <> 'failed' AND NOT reconciled GROUP BY idempotency_key ORDER BY idempotency_key",
  );
  expect(live.map((l) => [l.idempotency_key, l.n, l.serial])).toEqual(apps.map((a) => [a.id, 1, a.serial]));
  expect(await caIssued()).toBe(N);
  // Some of them were answered by a replay: issued at the CA before the kill, recorded by the RA after.
  console.log(`at the kill: ${atKill.ca} issued by the CA, ${atKill.ra} recorded by the RA`);
});
