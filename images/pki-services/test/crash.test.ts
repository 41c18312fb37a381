/**
 * Crash safety (ADR 0011): SIGKILL the issuing CA (a real child process, real SoftHSM, a real
 * PostgreSQL 15 on disk) in the middle of 1,000 concurrent issuances, restart it, and show: no
 * lost record, no duplicate serial, every certificate a client received is in the database,
 * every intent left by the crash is reconciled (recorded and revoked), the audit chain holds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyAudit } from "../src/audit/log.js";
import { openDatabase } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";

const MAIN = join(import.meta.dirname, "../dist/main.js");
let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let pg: PgServer;
let child: ChildProcess | undefined;
let configFile: string;

beforeAll(async () => {
  tmp = tempDir("crash");
  [ca, pg] = await Promise.all([createTestCa(tmp.dir), startPostgres()]);
  ca.token.close(); // the child process is the only user of the token from here on
  configFile = join(tmp.dir, "ca-config.json");
  writeFileSync(configFile, JSON.stringify(ca.config));
});
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  pg?.stop();
  tmp?.cleanup();
});

// One instance: nothing else is in flight, so every intent it left is reconciled at restart.
function startService(): Promise<{ proc: ChildProcess; port: number; reconciled: number }> {
  const proc = spawn(process.execPath, [MAIN, "issuing-ca", "--config", configFile, "--db", pg.url, "--listen", "127.0.0.1:0", "--insecure-test-identity-header", "--pool-size", "8", "--reconcile-grace-seconds", "0"], {
    env: { ...process.env, ...ca.hsm.env, TEST_HSM_PIN: ca.hsm.pin },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once("line", (line) => {
      const m = JSON.parse(line) as { port: number; reconciled: number };
      resolve({ proc, port: m.port, reconciled: m.reconciled });
    });
    proc.once("exit", (code) => reject(new Error(`issuing-ca exited with ${code}: ${stderr}`)));
  });
}

function post(agent: http.Agent, port: number, body: string): Promise<{ status: number; json: { serial?: string; certificate?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/v1/certificates", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-test-client-identity": "lanic-ra" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) });
          } catch (e) {
            reject(e);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

it("survives SIGKILL in the middle of 1,000 concurrent issuances", async () => {
  const csrs = Array.from({ length: 10 }, (_, i) => opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=LANIC/CN=operator-${i}`));
  const first = await startService();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const received = new Map<string, string>();
  let killedAt = -1;
  const results = await Promise.allSettled(
    Array.from({ length: 1000 }, async (_, i) => {
      const r = await post(agent, first.port, JSON.stringify({ profile: "operator", csr: csrs[i % csrs.length] }));
      if (r.status !== 201) throw new Error(`status ${r.status}`);
      expect(received.has(r.json.serial!)).toBe(false); // a serial is never handed out twice
      received.set(r.json.serial!, r.json.certificate!);
      if (received.size === 300 && killedAt < 0) {
        killedAt = received.size;
        first.proc.kill("SIGKILL");
      }
    }),
  );
  agent.destroy();
  await new Promise((r) => (first.proc.exitCode !== null || first.proc.signalCode ? r(null) : first.proc.once("exit", r)));
  expect(first.proc.signalCode).toBe("SIGKILL");
  const failedRequests = results.filter((r) => r.status === "rejected").length;
  expect(received.size).toBeGreaterThanOrEqual(300);
  expect(failedRequests).toBeGreaterThan(0); // the kill really happened mid-run
  expect(received.size + failedRequests).toBe(1000);

  const db = await openDatabase({ url: pg.url });
  try {
    const intentsBefore = Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM certificates WHERE status = 'intent'"))[0].n);

    // Restart: reconciliation runs before the service listens.
    const second = await startService();
    expect(second.reconciled).toBe(intentsBefore);

    const rows = await db.query<{ serial: string; status: string; der: Buffer | null; reconciled: boolean }>("SELECT serial, status, der, reconciled FROM certificates");
    const bySerial = new Map(rows.map((r) => [r.serial, r]));
    expect(bySerial.size).toBe(rows.length); // no duplicate serial
    // Every certificate a client received is in the database, byte for byte, as issued.
    for (const [serial, pem] of received) {
      const row = bySerial.get(serial);
      expect(row?.status).toBe("issued");
      expect(row!.der!.equals(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"))).toBe(true);
    }
    // No intent is left; the ones the crash left are recorded and revoked.
    expect(rows.filter((r) => r.status === "intent")).toEqual([]);
    const reconciled = rows.filter((r) => r.reconciled);
    expect(reconciled.length).toBe(intentsBefore);
    expect(reconciled.every((r) => r.status === "revoked")).toBe(true);
    // No lost record: every reserved serial has an audit trail (intent, then issue or reconcile).
    const audit = await db.query<{ event: string; details: { serial?: string; serials?: string[] } }>("SELECT event, details FROM audit_log ORDER BY seq");
    const intents = new Set(audit.filter((a) => a.event === "cert.intent").map((a) => a.details.serial!));
    expect(intents).toEqual(new Set(rows.map((r) => r.serial)));
    const issuedAudited = new Set(audit.filter((a) => a.event === "cert.issue").map((a) => a.details.serial!));
    expect(issuedAudited).toEqual(new Set(rows.filter((r) => r.status === "issued").map((r) => r.serial)));
    const reconciledAudited = audit.filter((a) => a.event === "cert.reconciled").flatMap((a) => a.details.serials ?? []);
    expect(new Set(reconciledAudited)).toEqual(new Set(reconciled.map((r) => r.serial)));
    expect((await verifyAudit(db)).ok).toBe(true);

    // And the restarted service issues again.
    const again = await post(new http.Agent(), second.port, JSON.stringify({ profile: "operator", csr: csrs[0] }));
    expect(again.status).toBe(201);
    second.proc.kill("SIGTERM");
    await new Promise((r) => second.proc.once("exit", r));
    console.log(`crash test: ${received.size} received before SIGKILL, ${failedRequests} cut off, ${intentsBefore} intents reconciled as revoked, ${rows.length} records`);
  } finally {
    await db.close();
  }
}, 180_000);
