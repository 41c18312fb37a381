/**
 * `ocsp-responder --serve --workers 2` as a process of dist/main.js (run `npx tsc -b` first):
 * the signer pushes once over mTLS to the primary's publish port, and every serving process
 * answers from the same, complete set — each answer names its process (`x-ocsp-worker`), and
 * requests come over new connections until every live worker has answered (the kernel spreads
 * connections among the workers, not evenly).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeResponse } from "../src/ocsp/protocol.js";
import type { OcspSigner } from "../src/ocsp/signer.js";
import { ResponseCache } from "../src/ocsp/server.js";
import { createLabTls } from "../src/lab/tls.js";
import type { IssuingCa } from "../src/issuing-ca/service.js";
import type { Database } from "../src/storage/db.js";
import { opensslCsr, type TestCa } from "./fixtures.js";
import { freePort, tempDir, writeTlsDir } from "./helpers.js";
import { createOcspTestBed, describeOpensslChecks, run, type OcspCheckContext } from "./ocsp-checks.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const WORKERS = 2;
let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let issuing: IssuingCa;
let signer: OcspSigner;
let responder: Responder;
let serveArgs: string[];
let url: string;
const certs: Record<string, { serial: string; file: string; request: Buffer }> = {};

/** The responder process and the JSON lines it logged (its workers log to the same stdout). */
interface Responder {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}
function startResponder(args: string[]): Promise<Responder> {
  const proc = spawn(process.execPath, [MAIN, ...args], { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buf = "";
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split("\n");
    buf = parts.pop()!;
    for (const p of parts) if (p.startsWith("{")) lines.push(JSON.parse(p) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const r: Responder = {
    proc,
    lines,
    waitFor: (pred, ms = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`responder did not log it in ${ms} ms; stderr: ${err}; lines: ${JSON.stringify(lines)}`)), ms);
        const check = () => {
          const l = lines.find(pred);
          if (l) {
            clearTimeout(timer);
            resolve(l);
          } else waiters.push(check);
        };
        check();
      }),
  };
  proc.once("exit", (code) => {
    if (code) err += `\n(exited ${code})`;
  });
  return r.waitFor((l) => l.event === "listening" && l.mode === "serve").then(() => r);
}
const stopped = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once("exit", () => r())));

/** One POST over a new connection: which worker answered, and what. */
function ask(request: Buffer): Promise<{ worker: string; status: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/ocsp-request", "content-length": request.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        let status: string;
        try {
          status = summarizeResponse(body).status;
        } catch {
          status = `error ${body.toString("hex")}`; // e.g. 30030a0106: unauthorized
        }
        resolve({ worker: String(res.headers["x-ocsp-worker"]), status, body });
      });
    });
    req.on("error", reject);
    req.end(request);
  });
}
/** Requests, each over a new connection, until every live worker has answered twice (at most
 *  200): the statuses each worker gave. */
async function askMany(request: Buffer): Promise<Map<string, Set<string>>> {
  const by = new Map<string, Set<string>>();
  const count = new Map<string, number>();
  for (let i = 0; i < 200 && !liveWorkers().every((w) => (count.get(w) ?? 0) >= 2); i++) {
    const a = await ask(request);
    if (!by.has(a.worker)) by.set(a.worker, new Set());
    by.get(a.worker)!.add(a.status);
    count.set(a.worker, (count.get(a.worker) ?? 0) + 1);
  }
  return by;
}
const liveWorkers = () => {
  const started = responder.lines.filter((l) => l.event === "worker.listening").map((l) => String(l.worker));
  const exited = new Set(responder.lines.filter((l) => l.event === "worker.exited").map((l) => String(l.worker)));
  return started.filter((w) => !exited.has(w)).sort();
};
const pidOf = (worker: string) => Number(responder.lines.find((l) => l.event === "worker.started" && String(l.worker) === worker)!.pid);

async function issue(name: string) {
  const csr = opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=MTC/title=Director/CN=${name}`);
  const r = await issuing.issue({ profile: "ex-officio", csr }, "lanic-ra");
  const file = join(tmp.dir, `${name}.pem`);
  writeFileSync(file, r.certificate);
  const reqFile = join(tmp.dir, `${name}.req`);
  spawnSync("openssl", ["ocsp", "-issuer", ca.caFile, "-cert", file, "-no_nonce", "-reqout", reqFile]);
  return { serial: r.serial, file, request: readFileSync(reqFile) };
}

beforeAll(async () => {
  tmp = tempDir("ocsp-cluster");
  const bed = await createOcspTestBed(tmp.dir);
  ({ ca, db, issuing } = bed);
  for (const n of ["good", "revoked", "later", "stale", "hung"]) certs[n] = await issue(n);
  expect(await issuing.store.revoke(certs.revoked.serial, "keyCompromise", "lanic-ra")).toBe("revoked");

  const tls = createLabTls(join(tmp.dir, "tls"));
  const serverDir = writeTlsDir(join(tmp.dir, "publish-tls"), { ...tls.server, ca: tls.ca });
  const trustDir = join(tmp.dir, "ca-certs");
  mkdirSync(trustDir);
  writeFileSync(join(trustDir, "issuing-ca-1.pem"), ca.caPem);
  const [port, pubPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  serveArgs = [
    "ocsp-responder",
    "--serve",
    "--workers",
    String(WORKERS),
    "--listen",
    `127.0.0.1:${port}`,
    "--publish-listen",
    `127.0.0.1:${pubPort}`,
    "--cache-file",
    join(tmp.dir, "cache.bin"),
    "--publish-tls-dir",
    serverDir,
    "--trust-dir",
    trustDir,
  ];
  responder = await startResponder(serveArgs);
  await responder.waitFor((l) => l.event === "listening" && l.mode === "publish");
  signer = bed.signer(`https://127.0.0.1:${pubPort}`, tls.client("ocsp-signer-issuing-ca-1"));
  await signer.checkResponderCertificate();
  expect((await signer.syncOnce()).signed).toBe(6); // responder, good, revoked, later, stale, hung
}, 120_000);
afterAll(async () => {
  responder?.proc.kill("SIGTERM");
  if (responder) await stopped(responder.proc);
  await issuing?.stop();
  await db?.close().catch(() => undefined);
  ca?.token.close();
  tmp?.cleanup();
});

describeOpensslChecks(
  `openssl ocsp against --workers ${WORKERS} (each check once per worker)`,
  () => ({
    ocsp: (args) => run("openssl", ["ocsp", "-timeout", "10", "-url", url, "-issuer", ca.caFile, "-CAfile", ca.rootFile, "-verify_other", ca.caFile, ...args]),
    certs: certs as unknown as OcspCheckContext["certs"],
    revokeLater: async () => {
      expect(await issuing.store.revoke(certs.later.serial, "superseded", "lanic-ra")).toBe("revoked");
      await signer.syncOnce();
    },
  }),
  2 * WORKERS,
);

describe(`ocsp-responder --serve --workers ${WORKERS}`, () => {
  it("every worker answers from the full set pushed once", async () => {
    expect(liveWorkers()).toHaveLength(WORKERS);
    const good = await askMany(certs.good.request);
    expect([...good.keys()].sort()).toEqual(liveWorkers());
    for (const s of good.values()) expect([...s]).toEqual(["good"]);
    const revoked = await askMany(certs.revoked.request);
    expect([...revoked.keys()].sort()).toEqual(liveWorkers());
    for (const s of revoked.values()) expect([...s]).toEqual(["revoked"]);
  });

  it("a revocation pushed once is answered `revoked` by every worker as soon as the push returns", async () => {
    for (const s of (await askMany(certs.stale.request)).values()) expect([...s]).toEqual(["good"]);
    expect(await issuing.store.revoke(certs.stale.serial, "keyCompromise", "lanic-ra")).toBe("revoked");
    const pass = await signer.syncOnce(); // one push, to the primary's publish port
    expect(pass.signed).toBe(1);
    const after = await askMany(certs.stale.request);
    expect([...after.keys()].sort()).toEqual(liveWorkers());
    for (const s of after.values()) expect([...s]).toEqual(["revoked"]);
  });

  it("a worker killed is restarted and gets the full set from the primary (no new push)", async () => {
    const [victim] = liveWorkers();
    process.kill(pidOf(victim), "SIGKILL");
    const restarted = await responder.waitFor((l) => l.event === "worker.listening" && Number(l.worker) > WORKERS);
    const id = String(restarted.worker);
    expect(restarted.responses).toBe(12); // 6 certificates × (SHA-1, SHA-256)
    expect(liveWorkers()).toHaveLength(WORKERS);
    expect(liveWorkers()).toContain(id);
    expect(liveWorkers()).not.toContain(victim);
    for (const [name, status] of [
      ["good", "good"],
      ["revoked", "revoked"],
      ["later", "revoked"],
      ["stale", "revoked"],
      ["hung", "good"],
    ] as const) {
      const by = await askMany(certs[name].request);
      expect([...by.keys()].sort(), name).toEqual(liveWorkers());
      for (const s of by.values()) expect([...s], name).toEqual([status]);
    }
    // the same pre-signed bytes from both workers
    const bodies = new Map<string, string>();
    for (let i = 0; i < 200 && bodies.size < WORKERS; i++) {
      const a = await ask(certs.good.request);
      bodies.set(a.worker, a.body.toString("hex"));
    }
    expect([...bodies.keys()].sort()).toEqual(liveWorkers());
    expect(new Set(bodies.values()).size).toBe(1);
  }, 30_000);

  it("a worker that does not take a push in time is replaced, never left answering `good`", async () => {
    const [hung] = liveWorkers();
    const pid = pidOf(hung);
    process.kill(pid, "SIGSTOP"); // alive, holding its old set, taking nothing
    try {
      expect(await issuing.store.revoke(certs.hung.serial, "superseded", "lanic-ra")).toBe("revoked");
      const t0 = Date.now();
      await signer.syncOnce(); // returns once the hung worker is killed (10 s ack timeout)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(9_000);
      expect(responder.lines.some((l) => l.event === "worker.unresponsive" && String(l.worker) === hung)).toBe(true);
      await responder.waitFor((l) => l.event === "worker.exited" && String(l.worker) === hung);
      await responder.waitFor(() => liveWorkers().length === WORKERS);
      expect(liveWorkers()).not.toContain(hung);
      const by = await askMany(certs.hung.request);
      expect([...by.keys()].sort()).toEqual(liveWorkers());
      for (const s of by.values()) expect([...s]).toEqual(["revoked"]);
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* killed */
      }
    }
  }, 60_000);

  it("restarted whole while the signer is down, it answers from its cache file (one writer: the primary)", async () => {
    responder.proc.kill("SIGTERM");
    await stopped(responder.proc);
    const journal = readFileSync(serveArgs[serveArgs.indexOf("--cache-file") + 1]);
    const c = new ResponseCache();
    expect(c.putAll(journal)).toMatchObject({ rejected: 0 }); // whole responses only: no torn or interleaved write
    responder = await startResponder(serveArgs);
    // the journal appends every push (old and new responses); the set it rebuilds holds the newest of each
    expect(Number(responder.lines.find((l) => l.event === "ocsp.cache.loaded")!.loaded)).toBeGreaterThanOrEqual(12);
    expect(responder.lines.filter((l) => l.event === "worker.listening").map((l) => l.responses)).toEqual(Array(WORKERS).fill(12));
    for (const [name, status] of [
      ["good", "good"],
      ["revoked", "revoked"],
      ["later", "revoked"],
      ["stale", "revoked"],
      ["hung", "revoked"],
    ] as const) {
      const by = await askMany(certs[name].request);
      expect([...by.keys()].sort(), name).toEqual(liveWorkers());
      for (const s of by.values()) expect([...s], name).toEqual([status]);
    }
  }, 30_000);
});
