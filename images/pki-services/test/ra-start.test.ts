/**
 * A failed start of the RA (BR 5.4.1: start-up of the logging functions is logged): the backend,
 * once its audit log is open, records `service.start.failed` with the reason instead of leaving
 * `service.start` without a stop; the frontend (no database, ADR 0060) says so in its log. Both
 * exit 1 with a message naming the address, no stack trace. The real program, as the stacks run it.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDatabase } from "../src/storage/db.js";
import { freePort, tempDir, writeTlsDir } from "./helpers.js";
import { makeRaPki, raConfig, type RaPki } from "./ra-harness.js";

const MAIN = join(import.meta.dirname, "../dist/main.js");

let tmp: ReturnType<typeof tempDir>;
let pki: RaPki;
let blocker: Server;
let port: number;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  tmp = tempDir("ra-start");
  pki = makeRaPki(tmp.dir);
  port = await freePort();
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => blocker.close(() => r()));
  tmp.cleanup();
});

it("the backend on an address in use: named, exit 1, and the start audited as failed", { timeout: 240_000 }, async () => {
  const config = raConfig(pki, tmp.dir, "https://127.0.0.1:9");
  writeFileSync(join(tmp.dir, "ra-config.json"), JSON.stringify(config));
  const dbDir = join(tmp.dir, "ra-db");
  const r = await cli(["ra", "--backend", "--config", join(tmp.dir, "ra-config.json"), "--db", dbDir, "--listen", `127.0.0.1:${port}`]);
  const message = `cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)`;
  expect(r.stderr).toBe(`pki-services: ${message}\n`);
  expect(r.code).toBe(1);
  const db = await openDatabase({ url: dbDir });
  try {
    const rows = await db.query<{ event: string; actor: string; details: Record<string, unknown> }>("SELECT event, actor, details FROM audit_log ORDER BY seq");
    expect(rows.map((x) => x.event)).toEqual(["service.start", "service.start.failed"]);
    expect(rows[1]).toEqual({ event: "service.start.failed", actor: "system", details: { role: "ra", reason: message } });
  } finally {
    await db.close();
  }
  const v = await cli(["audit", "verify", "--db", dbDir]);
  expect(v).toMatchObject({ code: 0, stdout: "audit log OK: 2 records, chain intact\n" });
});

it("the frontend on an address in use: named, exit 1, and service.start.failed in its log", { timeout: 120_000 }, async () => {
  const tlsDir = writeTlsDir(join(tmp.dir, "fe-tls"), { key: pki.frontend.key, cert: pki.frontend.cert, ca: pki.caPem });
  const backendTlsDir = writeTlsDir(join(tmp.dir, "fe-client"), { key: pki.frontend.key, cert: pki.frontend.cert, ca: pki.caPem });
  const chain = join(tmp.dir, "chain.pem");
  writeFileSync(chain, pki.caPem);
  const r = await cli(["ra", "--frontend", "--listen", `127.0.0.1:${port}`, "--tls-dir", tlsDir, "--backend-tls-dir", backendTlsDir, "--backend-url", "https://127.0.0.1:9", "--chain-file", chain]);
  const message = `cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)`;
  expect(r.stderr).toBe(`pki-services: ${message}\n`);
  expect(r.code).toBe(1);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toContainEqual(expect.objectContaining({ event: "service.start.failed", role: "ra-frontend", reason: message }));
  expect(lines.some((l) => l.event === "listening")).toBe(false);
});
