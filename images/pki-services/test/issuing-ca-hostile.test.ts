/**
 * The issuing CA under hostile and careless input, through its real HTTP shell and executable:
 * every refusal has its status, message and audit record (whatever bytes it carries); bodies
 * are bounded and typed; the database dying under load gives 503 and recovers; start-up
 * mistakes are named (file, flag, cause) with exit code 1 and no stack trace, and a failed start
 * is audited as such. The PIN is read from its file and never appears in the process environment.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import http from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../src/audit/log.js";
import { serveIssuingCa } from "../src/issuing-ca/http.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { createLabTls } from "../src/lab/tls.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { freePort, tempDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let issuing: IssuingCa;
let srv: Awaited<ReturnType<typeof serveIssuingCa>>;
let csr: string;

function request(
  port: number,
  method: string,
  path: string,
  o: { body?: Buffer | string; contentType?: string; chunked?: Buffer[]; identity?: string } = {},
): Promise<{ status: number; json: { error?: string; messages?: string[]; requestId?: string } }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "x-test-client-identity": o.identity ?? "lanic-ra" };
    if (o.contentType !== undefined) headers["content-type"] = o.contentType;
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(b) }));
    });
    req.on("error", reject);
    if (o.chunked) {
      let i = 0;
      const next = () => {
        while (i < o.chunked!.length) if (!req.write(o.chunked![i++])) return req.once("drain", next);
        req.end();
      };
      next();
    } else req.end(o.body);
  });
}
const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: "application/json" });
async function lastAudit(): Promise<{ event: string; actor: string; details: Record<string, unknown> }> {
  const [r] = await db.query<{ event: string; actor: string; details: Record<string, unknown> }>("SELECT event, actor, details FROM audit_log ORDER BY seq DESC LIMIT 1");
  return r;
}

beforeAll(async () => {
  tmp = tempDir("ca-hostile");
  ca = await createTestCa(tmp.dir);
  db = await openDatabase({ url: "memory://" });
  issuing = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 2 });
  srv = await serveIssuingCa(issuing, { host: "127.0.0.1", port: 0, identity: { kind: "insecure-test-header" } });
  csr = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=MTC/title=Director/CN=Somsak");
});
afterAll(async () => {
  await srv?.close();
  await issuing?.stop();
  await db?.close();
  ca?.token.close();
  tmp?.cleanup();
});

describe("issuing CA HTTP: every refusal answered, typed and audited", () => {
  const cases: [string, () => Promise<ReturnType<typeof request>>, number, string, RegExp, string][] = [
    [
      "text/plain body",
      () => request(srv.port, "POST", "/v1/certificates", { body: JSON.stringify({ profile: "ex-officio", csr }), contentType: "text/plain" }),
      415,
      "unsupported_media_type",
      /^Content-Type must be application\/json, not "text\/plain"$/,
      "cert.request.rejected",
    ],
    [
      "no content type",
      () => request(srv.port, "POST", "/v1/certificates", { body: JSON.stringify({ profile: "ex-officio", csr }) }),
      415,
      "unsupported_media_type",
      /^Content-Type must be application\/json, not absent$/,
      "cert.request.rejected",
    ],
    [
      "form body on revoke",
      () => request(srv.port, "POST", "/v1/certificates/01/revoke", { body: "reason=keyCompromise", contentType: "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
      /not "application\/x-www-form-urlencoded"/,
      "cert.revoke.rejected",
    ],
    [
      "a chunked body over 64 KiB",
      () => request(srv.port, "POST", "/v1/certificates", { contentType: "application/json", chunked: Array(40).fill(Buffer.alloc(4096, 0x20)) }),
      413,
      "too_large",
      /^request body exceeds the limit of 65536 bytes$/,
      "cert.request.rejected",
    ],
    [
      "a declared body over 64 KiB",
      () => request(srv.port, "POST", "/v1/certificates", { contentType: "application/json", body: Buffer.alloc(70_000, 0x20) }),
      413,
      "too_large",
      /^request body of 70000 bytes exceeds/,
      "cert.request.rejected",
    ],
    [
      "NUL in the profile name",
      () => request(srv.port, "POST", "/v1/certificates", json({ profile: "ex\u0000officio", csr })),
      422,
      "unknown_profile",
      /^profile "ex\u0000officio" does not exist/,
      "cert.request.rejected",
    ],
    ["a lone surrogate in the profile name", () => request(srv.port, "POST", "/v1/certificates", json({ profile: "\ud800", csr })), 422, "unknown_profile", /^profile "\ud800" does not exist/, "cert.request.rejected"],
    [
      "a lone surrogate in a revocation reason",
      () => request(srv.port, "POST", "/v1/certificates/0102/revoke", json({ reason: "key\udc00Compromise" })),
      400,
      "bad_reason",
      /^reason "key\udc00Compromise" is not an RFC 5280 CRLReason/,
      "cert.revoke.rejected",
    ],
    [
      "NUL in an unknown field's name",
      () => request(srv.port, "POST", "/v1/certificates", json({ profile: "ex-officio", csr, "x\u0000": 1 })),
      400,
      "bad_request",
      /^unknown field\(s\): x\u0000$/,
      "cert.request.rejected",
    ],
    ["a CSR that is NUL bytes", () => request(srv.port, "POST", "/v1/certificates", json({ profile: "ex-officio", csr: "\u0000".repeat(64) })), 400, "bad_csr", /./, "cert.request.rejected"],
  ];
  for (const [name, send, status, code, message, event] of cases) {
    it(`${status} ${code}: ${name}`, async () => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.json.error).toBe(code);
      expect(r.json.messages?.[0]).toMatch(message);
      const a = await lastAudit();
      expect(a.event).toBe(event);
      expect(a.details).toMatchObject({ status, code });
      // what PostgreSQL cannot store is escaped and listed, not lost
      const stored = JSON.stringify(a.details);
      expect(stored).not.toContain("\u0000");
      if (/[\u0000\ud800-\udfff]/.test(r.json.messages?.[0] ?? "")) expect(a.details.escaped).toContain("problems.0");
    });
  }

  it("the audit chain is intact after all of the above", async () => {
    const v = await verifyAudit(db);
    expect(v.problems).toEqual([]);
    expect(v.records).toBeGreaterThan(10);
  });
});

describe("the database dying under load: 503, no crash, recovery", () => {
  let pg: PgServer;
  let proc: ChildProcess;
  let port: number;
  beforeAll(async () => {
    pg = await startPostgres();
    const cfg = join(tmp.dir, "ca-config.json");
    writeFileSync(cfg, JSON.stringify(ca.config));
    proc = spawn(process.execPath, [MAIN, "issuing-ca", "--config", cfg, "--db", pg.url, "--listen", "127.0.0.1:0", "--insecure-test-identity-header", "--pool-size", "2"], {
      env: { ...process.env, ...ca.hsm.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).once("line", (l) => resolve((JSON.parse(l) as { port: number }).port));
      proc.once("exit", (c) => reject(new Error(`issuing-ca exited ${c}: ${stderr}`)));
    });
  }, 120_000);
  afterAll(() => {
    proc?.kill("SIGKILL");
    pg?.stop();
  });

  it("answers 201 or 503 while PostgreSQL is killed mid-load, stays up, and issues again once it is back", async () => {
    const issue = () => request(port, "POST", "/v1/certificates", json({ profile: "ex-officio", csr })).catch((e: Error) => ({ status: -1, json: { error: e.message } }));
    const load = Array.from({ length: 12 }, issue);
    await new Promise((r) => setTimeout(r, 50));
    pg.pause();
    const during = await Promise.all([...load, ...Array.from({ length: 6 }, issue)]);
    for (const r of during) expect([201, 503], JSON.stringify(r)).toContain(r.status);
    const down = during.filter((r) => r.status === 503);
    expect(down.length).toBeGreaterThan(0);
    for (const r of down) expect(r.json).toMatchObject({ error: "database_unavailable", messages: ["the CA database is unavailable; retry later"] });
    expect(proc.exitCode).toBeNull();
    pg.resume();
    let after = await issue();
    for (let i = 0; i < 20 && after.status !== 201; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await issue();
    }
    expect(after.status).toBe(201);
    expect(proc.exitCode).toBeNull();
  }, 120_000);
});

/** Runs dist/main.js; resolves with its exit code and output. */
function cli(args: string[], env: NodeJS.ProcessEnv = { ...process.env, ...ca.hsm.env }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [MAIN, ...args], { env, encoding: "utf8", timeout: 200_000 }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );
}

describe("start-up mistakes: named, exit 1, no stack trace", () => {
  // file names fixed when the cases are collected; the files are written before they run
  const cliDir = mkdtempSync(join(tmpdir(), "pki-ca-cli-"));
  const cfg = join(cliDir, "ca-config-cli.json");
  const tlsFiles = {
    key: join(cliDir, "srv.key"),
    cert: join(cliDir, "srv.crt"),
    otherKey: join(cliDir, "other.key"),
    ca: join(cliDir, "client-ca.crt"),
    garbage: join(cliDir, "garbage.pem"),
    file: join(cliDir, "a-file"),
  };
  afterAll(() => rmSync(cliDir, { recursive: true, force: true }));
  beforeAll(() => {
    writeFileSync(cfg, JSON.stringify(ca.config));
    const t = createLabTls(join(tmp.dir, "tls"));
    const other = createLabTls(join(tmp.dir, "tls-other"));
    writeFileSync(tlsFiles.key, t.server.key);
    writeFileSync(tlsFiles.cert, t.server.cert);
    writeFileSync(tlsFiles.otherKey, other.server.key);
    writeFileSync(tlsFiles.ca, t.ca);
    writeFileSync(tlsFiles.garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    writeFileSync(tlsFiles.file, "I am a file\n");
  });
  const base = () => ["issuing-ca", "--config", cfg, "--insecure-test-identity-header", "--listen", "127.0.0.1:0", "--db", join(tmp.dir, "db-cli")];
  const cases: [string, () => string[], (() => NodeJS.ProcessEnv) | undefined, RegExp][] = [
    ["--listen abc", () => [...base(), "--listen", "abc"], undefined, /^pki-services: --listen 'abc' is not HOST:PORT \(e\.g\. 0\.0\.0\.0:8443, \[::1\]:8443; port 0 to 65535\)\n$/],
    ["--listen with port 70000", () => [...base(), "--listen", "127.0.0.1:70000"], undefined, /^pki-services: --listen '127\.0\.0\.1:70000' is not HOST:PORT/],
    ["a bad duration", () => [...base(), "--reconcile-grace-seconds", "2m"], undefined, /^pki-services: --reconcile-grace-seconds must be a number of seconds ≥ 0, not '2m'\n$/],
    ["a bad pool size", () => [...base(), "--pool-size", "0"], undefined, /^pki-services: --pool-size must be a positive integer, not '0'\n$/],
    ["a CA certificate file that is not one", () => [...base(), "--ca-cert", tlsFiles.garbage], undefined, new RegExp(`^pki-services: the --ca-cert file ${tlsFiles.garbage} is not a certificate \\(PEM or DER\\)`)],
    ["a missing CA certificate file", () => [...base(), "--ca-cert", "/nonexistent/ca.pem"], undefined, /^pki-services: the --ca-cert file \/nonexistent\/ca\.pem cannot be read: ENOENT\n$/],
    [
      "a TLS key that does not match its certificate",
      () => ["issuing-ca", "--config", cfg, "--listen", "127.0.0.1:0", "--tls-key", tlsFiles.otherKey, "--tls-cert", tlsFiles.cert, "--client-ca", tlsFiles.ca],
      undefined,
      new RegExp(`^pki-services: the TLS key ${tlsFiles.otherKey} does not match the certificate ${tlsFiles.cert} \\(CN=localhost\\)\n$`),
    ],
    [
      "a PGlite path that is a file",
      () => [...base(), "--db", tlsFiles.file],
      undefined,
      new RegExp(`^pki-services: the database path ${tlsFiles.file} is a file, not a PGlite data directory \\(nor a postgres:// URL\\)\n$`),
    ],
    [
      "the SoftHSM configuration missing",
      () => base(),
      () => ({ ...process.env, SOFTHSM2_CONF: "/nonexistent/softhsm2.conf" }),
      /^pki-services: the PKCS#11 library \S+ failed to initialise: CKR_GENERAL_ERROR.*; SoftHSM's configuration \/nonexistent\/softhsm2\.conf does not exist \(SOFTHSM2_CONF names it\)\n$/,
    ],
    [
      "the PIN file missing",
      () => {
        const c = join(tmp.dir, "nopin.json");
        writeFileSync(c, JSON.stringify({ ...ca.config, hsm: { ...ca.config.hsm, pinFile: "/nonexistent/pin" } }));
        return ["issuing-ca", "--config", c, "--insecure-test-identity-header", "--listen", "127.0.0.1:0"];
      },
      undefined,
      /^pki-services: the PIN of token "lanic-issuing" is read from \/nonexistent\/pin \(hsm\.pinFile, the mounted Secret\), which cannot be read: ENOENT\n$/,
    ],
    [
      "a config with the old pinEnv",
      () => {
        const c = join(tmp.dir, "pinenv.json");
        const { pinFile: _, ...hsm } = ca.config.hsm;
        writeFileSync(c, JSON.stringify({ ...ca.config, hsm: { ...hsm, pinEnv: "X" } }));
        return ["issuing-ca", "--config", c, "--insecure-test-identity-header"];
      },
      undefined,
      /^pki-services: \S+pinenv\.json: hsm\.pinFile: .*; hsm: Unrecognized key: "pinEnv"\n$/,
    ],
  ];
  for (const [name, args, env, message] of cases) {
    it(name, { timeout: 240_000 }, async () => {
      const r = await cli(args(), env?.());
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.code).toBe(1);
    });
  }

  it("an address already in use: named, exit 1, and the start audited as failed (not left without a stop)", async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
    const dbDir = join(tmp.dir, "db-inuse");
    try {
      const r = await cli(["issuing-ca", "--config", cfg, "--insecure-test-identity-header", "--listen", `127.0.0.1:${port}`, "--db", dbDir]);
      expect(r.stderr).toBe(`pki-services: cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)\n`);
      expect(r.code).toBe(1);
    } finally {
      blocker.close();
    }
    const d = await openDatabase({ url: dbDir });
    try {
      const rows = await d.query<{ event: string; details: Record<string, unknown> }>("SELECT event, details FROM audit_log ORDER BY seq");
      expect(rows.map((x) => x.event)).toEqual(["config.loaded", "service.start", "hsm.login", "service.start.failed"]);
      expect(rows[3].details).toEqual({ role: "issuing-ca", ca: "issuing-ca-1", reason: `cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)` });
    } finally {
      await d.close();
    }
    const v = await cli(["audit", "verify", "--db", dbDir]);
    expect(v).toMatchObject({ code: 0, stdout: "audit log OK: 4 records, chain intact\n" });
  }, 240_000);

  it("the PIN is read from its file: it is not in the running process's environment", async () => {
    const proc = spawn(process.execPath, [MAIN, ...base(), "--db", join(tmp.dir, "db-pin")], { env: { ...process.env, ...ca.hsm.env }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: proc.stdout! }).once("line", () => resolve());
        proc.once("exit", (c) => reject(new Error(`exited ${c}`)));
      });
      const environ = readFileSync(`/proc/${proc.pid}/environ`);
      expect(environ.includes(Buffer.from(ca.hsm.pin))).toBe(false);
      expect(readFileSync(ca.config.hsm.pinFile, "utf8")).toBe(`${ca.hsm.pin}\n`);
    } finally {
      proc.kill("SIGTERM");
    }
  }, 240_000);
});

describe("pki-services audit verify refuses what is not an audit log", () => {
  it.each([
    ["a mistyped path", () => "/nonexistent/audit-db", /^pki-services: no database at \/nonexistent\/audit-db: not a PostgreSQL URL, and no PGlite data directory there\n$/],
    [
      "an empty folder",
      () => {
        const d = join(tmp.dir, "empty-dir");
        mkdirSync(d, { recursive: true });
        return d;
      },
      /is not a PGlite data directory \(no PG_VERSION in it\)\n$/,
    ],
    [
      "a file",
      () => {
        const f = join(tmp.dir, "not-a-db");
        writeFileSync(f, "x");
        return f;
      },
      /is a file, not a PGlite data directory/,
    ],
  ])("%s: exit 1, nothing created", async (_n, path, message) => {
    const p = path();
    const r = await cli(["audit", "verify", "--db", p]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });

  it("a database with no records: exit 1, 'empty'", async () => {
    const dir = join(tmp.dir, "fresh-db");
    const d = await openDatabase({ url: dir });
    await d.close();
    const r = await cli(["audit", "verify", "--db", dir]);
    expect(r.stderr).toBe(`pki-services: the audit log in ${dir} is empty: a running CA has at least its service.start record; nothing verified\n`);
    expect(r.code).toBe(1);
  }, 240_000);
});

describe("the other roles name their start-up mistakes too", () => {
  it.each([
    [
      "repository --base-url without a scheme",
      ["repository", "--base-url", "repository.ca.gov.la", "--no-publish", "--listen", "127.0.0.1:0"],
      /^pki-services: --base-url 'repository\.ca\.gov\.la' is not an http:\/\/ or https:\/\/ URL \(the public URL the AIA and CDP point at, e.g\. http:\/\/repository\.ca\.gov\.la\)\n$/,
    ],
    ["repository --listen abc", ["repository", "--base-url", "http://repository.ca.gov.la", "--no-publish", "--listen", "abc"], /^pki-services: --listen 'abc' is not HOST:PORT/],
    ["ocsp-responder --serve --listen :x", ["ocsp-responder", "--serve", "--listen", "127.0.0.1:x"], /^pki-services: --listen '127\.0\.0\.1:x' is not HOST:PORT/],
    [
      "ocsp-responder --serve without CA certificates to verify pushes",
      () => [
        "ocsp-responder",
        "--serve",
        "--listen",
        "127.0.0.1:0",
        "--publish-listen",
        "127.0.0.1:0",
        "--tls-key",
        join(tmp.dir, "srv.key"),
        "--tls-cert",
        join(tmp.dir, "srv.crt"),
        "--client-ca",
        join(tmp.dir, "client-ca.crt"),
        "--trust-dir",
        "/nonexistent/ca-certs",
      ],
      /^pki-services: the CA certificates folder \/nonexistent\/ca-certs cannot be read: ENOENT\n$/,
    ],
  ] as [string, string[] | (() => string[]), RegExp][])("%s", { timeout: 240_000 }, async (_n, args, message) => {
    if (typeof args === "function") {
      const t = createLabTls(join(tmp.dir, "tls-roles"));
      writeFileSync(join(tmp.dir, "srv.key"), t.server.key);
      writeFileSync(join(tmp.dir, "srv.crt"), t.server.cert);
      writeFileSync(join(tmp.dir, "client-ca.crt"), t.ca);
    }
    const r = await cli(typeof args === "function" ? args() : args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(1);
  });

  it("crl-publisher --poll-seconds abc", { timeout: 240_000 }, async () => {
    const cfg = join(tmp.dir, "ca-config-crl.json");
    writeFileSync(cfg, JSON.stringify(ca.config));
    const r = await cli(["crl-publisher", "--config", cfg, "--poll-seconds", "abc", "--db", join(tmp.dir, "db-crl")]);
    expect(r.stderr).toBe("pki-services: --poll-seconds must be a number of seconds ≥ 0.001, not 'abc'\n");
    expect(r.code).toBe(1);
  });
});
