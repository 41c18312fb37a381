import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit, verifyAudit } from "../src/audit/log.js";
import { parseCsr, prepareCertificate, randomSerial } from "../src/pki/index.js";
import { migrate, openDatabase, type Database } from "../src/storage/db.js";
import { MIGRATIONS } from "../src/storage/migrations.js";
import { CertificateStore } from "../src/storage/store.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let pgServer: PgServer;
const MAIN = join(import.meta.dirname, "../dist/main.js");

beforeAll(async () => {
  tmp = tempDir("storage");
  [ca, pgServer] = await Promise.all([createTestCa(tmp.dir), startPostgres()]);
});
afterAll(() => {
  ca?.token.close();
  pgServer?.stop();
  tmp?.cleanup();
});

const backends: [string, () => string][] = [
  ["PGlite (on disk)", () => join(tmp.dir, `pglite-${Math.random().toString(36).slice(2)}`)],
  ["PostgreSQL 15", () => pgServer.url],
];

describe.each(backends)("storage and audit on %s", (_name, url) => {
  let db: Database;
  let dbUrl: string;
  beforeAll(async () => {
    dbUrl = url();
    db = await openDatabase({ url: dbUrl });
    // PostgreSQL is shared between the describe blocks' runs: start clean.
    await db.query("TRUNCATE certificates, audit_log");
    await db.query("UPDATE audit_head SET seq = 0, hash = $1", ["0".repeat(64)]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("applies the migrations once (re-opening applies nothing)", async () => {
    await db.close(); // PGlite: one process at a time on a data directory
    const again = await openDatabase({ url: dbUrl });
    const rows = await again.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(again)).toEqual([]);
    db = again;
  });

  it("stores intent before signing and the certificate after; reconciles a leftover intent as revoked", async () => {
    const store = new CertificateStore(db, "issuing-ca-1");
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op"));
    const a = prepareCertificate(ca.profiles.operator, csr, { serial: randomSerial() });
    const b = prepareCertificate(ca.profiles.operator, csr, { serial: randomSerial() });
    await store.reserve(a, "lanic-ra", "r1");
    await store.reserve(b, "lanic-ra", "r2");
    await expect(store.reserve(a, "lanic-ra", "r3")).rejects.toThrow(`serial ${a.serial.toString("hex")} already exists`);
    await store.complete(a.serial, Buffer.from("3000", "hex"), "lanic-ra", {});
    expect(await store.counts()).toEqual({ intent: 1, issued: 1 });
    // b: the process "crashed" after reserve; on start it is treated as possibly issued.
    expect(await store.reconcile("system")).toEqual([b.serial.toString("hex")]);
    const rb = await store.get(b.serial.toString("hex"));
    expect(rb).toMatchObject({ status: "revoked", reconciled: true, revocationReason: 0 });
    expect(rb!.tbs.equals(b.tbs)).toBe(true);
    expect(await store.revoke(a.serial.toString("hex"), "keyCompromise", "lanic-ra")).toBe("revoked");
    expect(await store.revoke(a.serial.toString("hex"), "keyCompromise", "lanic-ra")).toBe("already-revoked");
    expect((await verifyAudit(db)).ok).toBe(true);
  });

  it("appends hash-chained audit records from concurrent writers without a fork", async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => db.transaction((tx) => appendAudit(tx, "key.use", "system", { i }))));
    const v = await verifyAudit(db);
    expect(v).toMatchObject({ ok: true, problems: [] });
    expect(v.records).toBeGreaterThanOrEqual(40);
  });

  it("`pki-services audit verify` names an edited, a deleted and a reordered record", async () => {
    const verify = () => spawnSync("node", [MAIN, "audit", "verify", "--db", dbUrl], { encoding: "utf8" });
    await db.close(); // PGlite: one process at a time on a data directory
    let r = verify();
    expect(r.stdout).toMatch(/^audit log OK: \d+ records, chain intact\n$/);
    expect(r.status).toBe(0);
    db = await openDatabase({ url: dbUrl });
    await db.query(`UPDATE audit_log SET details = jsonb_set(details, '{i}', '999') WHERE seq = 5`);
    await db.query(`DELETE FROM audit_log WHERE seq = 10`);
    // Swap records 20 and 21 (their seq), leaving their content and hashes as written.
    await db.query(`UPDATE audit_log SET seq = -20 WHERE seq = 20`);
    await db.query(`UPDATE audit_log SET seq = 20 WHERE seq = 21`);
    await db.query(`UPDATE audit_log SET seq = 21 WHERE seq = -20`);
    await db.close();
    r = verify();
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TAMPERED edited: record 5 \(\S+ at \S+\) was edited: its content does not match its hash$/);
    expect(lines[1]).toBe("TAMPERED deleted: record(s) 10..10 before record 11 were deleted");
    expect(lines[2]).toMatch(/^TAMPERED reordered: record 20 \(\S+ at \S+\) was reordered: it was written as record 21$/);
    expect(lines[3]).toMatch(/^TAMPERED reordered: record 21 \(\S+ at \S+\) was reordered: it was written as record 20$/);
    expect(lines.at(-1)).toBe(`audit log BROKEN: 4 problem(s) in ${Number(/in (\d+) records/.exec(lines.at(-1)!)?.[1])} records`);
    db = await openDatabase({ url: dbUrl });
    // Deleting the tail is caught by the chain head.
    const [{ max }] = await db.query<{ max: string }>("SELECT max(seq) AS max FROM audit_log");
    await db.query(`DELETE FROM audit_log WHERE seq = $1`, [max]);
    const v = await verifyAudit(db);
    expect(v.problems.at(-1)?.message).toBe(`records ${max}..${max} at the end of the log were deleted (the chain head says ${max})`);
  });
});
