/**
 * The issuing CA's production identity mode: mTLS, the caller is the subject CN of its verified
 * client certificate (style 7: only the RA may issue and revoke). A small test PKI is made with
 * `openssl`: a client CA, a server certificate for 127.0.0.1, the RA's client certificate (CN =
 * the config's raClientSubject), another client of the same CA, and a rogue CA whose client
 * certificate also says CN=lanic-ra.
 *
 * The rules the code states (issuing-ca/http.ts): the TLS handshake requires a client
 * certificate from the client CA (so /healthz too is only for clients that pass it); issue and
 * revoke are for the RA only (403, audited as access.denied, nothing stored); GET of a
 * certificate is for any authenticated client; the test header is ignored in mTLS mode.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import tls from "node:tls";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../src/audit/log.js";
import { serveIssuingCa } from "../src/issuing-ca/http.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

const MAIN = join(import.meta.dirname, "../dist/main.js");

interface Identity {
  readonly key: Buffer;
  readonly cert: Buffer;
}

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let pki: { caCert: Buffer; server: Identity; ra: Identity; other: Identity; rogueRa: Identity; serverAsClient: Identity };

function openssl(args: string[]): void {
  execFileSync("openssl", args, { env: { ...process.env, OPENSSL_CONF: "/dev/null" }, stdio: ["ignore", "ignore", "pipe"] });
}

/** A P-256 key and a certificate for `subj` signed by `issuer` (self-signed CA when absent). */
function makeCert(name: string, subj: string, ext: string[], issuer?: { cert: string; key: string }): { key: string; cert: string } {
  const key = join(tmp.dir, `${name}.key`);
  const cert = join(tmp.dir, `${name}.crt`);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  openssl(["req", "-new", "-x509", "-key", key, "-subj", subj, "-days", "2", "-sha256", "-out", cert, ...(issuer ? ["-CA", issuer.cert, "-CAkey", issuer.key] : []), ...ext.flatMap((e) => ["-addext", e])]);
  return { key, cert };
}

const CA_EXT = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"];
const CLIENT_EXT = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"];
const load = (f: { key: string; cert: string }): Identity => ({ key: readFileSync(f.key), cert: readFileSync(f.cert) });

beforeAll(async () => {
  tmp = tempDir("mtls");
  ca = await createTestCa(tmp.dir);
  const clientCa = makeCert("client-ca", "/O=LANIC/CN=LANIC test service CA", CA_EXT);
  const rogueCa = makeCert("rogue-ca", "/O=LANIC/CN=LANIC test service CA", CA_EXT); // same name, other key
  const server = makeCert("server", "/O=LANIC/CN=issuing-ca-1", ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1"], clientCa);
  pki = {
    caCert: readFileSync(clientCa.cert),
    server: load(server),
    ra: load(makeCert("ra", `/O=LANIC/CN=${ca.config.raClientSubject}`, CLIENT_EXT, clientCa)),
    other: load(makeCert("other", "/O=LANIC/CN=lanic-ocsp-signer", CLIENT_EXT, clientCa)),
    rogueRa: load(makeCert("rogue-ra", `/O=LANIC/CN=${ca.config.raClientSubject}`, CLIENT_EXT, rogueCa)),
    serverAsClient: load(server), // from the right CA, but its EKU is serverAuth only
  };
});
afterAll(() => {
  ca?.token.close();
  tmp?.cleanup();
});

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function call(port: number, who: Identity | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        ca: pki.caCert,
        ...(who ? { key: who.key, cert: who.cert } : {}),
        headers: { ...(data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/**
 * A TLS handshake as `who`, sending nothing: "accepted" when the server sends a session ticket
 * (it does so only after it accepted the client's certificate), otherwise the TLS error code.
 * Sending a request instead would race the server's alert (ECONNRESET now and then).
 */
function handshake(port: number, who: Identity | undefined, maxVersion: tls.SecureVersion = "TLSv1.3"): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: pki.caCert, maxVersion, ...(who ? { key: who.key, cert: who.cert } : {}) });
    const done = (v: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done("no answer in 10 s"), 10_000);
    s.once("session", () => done("accepted"));
    s.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    s.once("close", () => done("closed without an alert"));
  });
}

describe("issuing-ca over mTLS (in process)", () => {
  let db: Database;
  let service: IssuingCa;
  let port: number;
  let close: () => Promise<void>;
  const count = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM certificates"))[0].n);
  const auditSeq = async () => Number((await db.query<{ s: string }>("SELECT coalesce(max(seq), 0) AS s FROM audit_log"))[0].s);
  const lastAudit = async () => (await db.query<{ event: string; actor: string; details: Record<string, unknown> }>("SELECT event, actor, details FROM audit_log ORDER BY seq DESC LIMIT 1"))[0];
  let issued: string;

  beforeAll(async () => {
    db = await openDatabase({ url: "memory://" });
    service = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 2 });
    const srv = await serveIssuingCa(service, { host: "127.0.0.1", port: 0, identity: { kind: "mtls", key: pki.server.key, cert: pki.server.cert, clientCa: pki.caCert } });
    port = srv.port;
    close = srv.close;
  });
  afterAll(async () => {
    await close?.();
    await service?.stop();
    await db?.close();
  });

  it("the RA's client certificate issues and revokes; the records name it as the actor", async () => {
    const csr = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-mtls");
    const r = await call(port, pki.ra, "POST", "/v1/certificates", { profile: "operator", csr });
    expect(r.status).toBe(201);
    issued = r.body.serial as string;
    expect(await lastAudit()).toMatchObject({ event: "cert.issue", actor: "lanic-ra", details: { serial: issued, profile: "operator" } });
    // The certificate chains to the issuing CA (independent check).
    const leaf = join(tmp.dir, "mtls-leaf.pem");
    writeFileSync(leaf, r.body.certificate as string);
    expect(execFileSync("openssl", ["verify", "-CAfile", ca.rootFile, "-untrusted", ca.caFile, leaf]).toString()).toBe(`${leaf}: OK\n`);

    const csr2 = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-mtls-2");
    const r2 = await call(port, pki.ra, "POST", "/v1/certificates", { profile: "operator", csr: csr2 });
    expect(r2.status).toBe(201);
    const rev = await call(port, pki.ra, "POST", `/v1/certificates/${r2.body.serial as string}/revoke`, { reason: "superseded" });
    expect(rev).toEqual({ status: 200, body: { serial: r2.body.serial, status: "revoked", reason: "superseded" } });
    expect(await lastAudit()).toMatchObject({ event: "cert.revoke", actor: "lanic-ra", details: { serial: r2.body.serial, reason: "superseded" } });
  });

  it("another valid client certificate gets 403 for issue and revoke (even claiming to be the RA by header), audited, nothing stored", async () => {
    const csr = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-mtls-3");
    const before = await count();
    for (const headers of [{}, { "x-test-client-identity": "lanic-ra" }]) {
      const r = await call(port, pki.other, "POST", "/v1/certificates", { profile: "operator", csr }, headers);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ error: "forbidden", messages: [`client "lanic-ocsp-signer" may not issue: only the RA (lanic-ra) may`] });
      expect(await lastAudit()).toEqual({ event: "access.denied", actor: "lanic-ocsp-signer", details: { path: "/v1/certificates", problems: [`client "lanic-ocsp-signer" may not issue: only the RA (lanic-ra) may`] } });
    }
    // Refused before its body is read: a malformed body from a non-RA caller is still a 403.
    const bad = await call(port, pki.other, "POST", "/v1/certificates", { profile: "operator", csr: "nope", isCa: true });
    expect(bad.status).toBe(403);
    expect(await count()).toBe(before);
    expect(await db.query("SELECT serial FROM certificates WHERE subject LIKE '%op-mtls-3%'")).toEqual([]);

    const rev = await call(port, pki.other, "POST", `/v1/certificates/${issued}/revoke`, { reason: "keyCompromise" });
    expect(rev.status).toBe(403);
    expect(rev.body.messages).toEqual([`client "lanic-ocsp-signer" may not revoke: only the RA (lanic-ra) may`]);
    expect(await lastAudit()).toMatchObject({ event: "access.denied", actor: "lanic-ocsp-signer", details: { path: `/v1/certificates/${issued}/revoke` } });
    expect((await service.store.get(issued))?.status).toBe("issued");
  });

  it("any client that passes the handshake may GET a certificate and the health", async () => {
    const got = await call(port, pki.other, "GET", `/v1/certificates/${issued}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ serial: issued, status: "issued", profile: "operator" });
    expect(await call(port, pki.other, "GET", "/v1/certificates/00ff")).toEqual({ status: 404, body: expect.objectContaining({ error: "not_found", messages: ["no certificate with serial 00ff"] }) });
    const h = await call(port, pki.other, "GET", "/healthz");
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ ok: true, hsm: { ok: true }, db: { ok: true } });
  });

  it("no client certificate, a rogue CA's 'lanic-ra', or a server-only certificate: the TLS handshake fails; nothing audited or stored", async () => {
    const [seq, n] = [await auditSeq(), await count()];
    // The probe can tell: the RA and the other client are accepted (TLS 1.3 and 1.2).
    const outcomes = {
      ra13: await handshake(port, pki.ra),
      other12: await handshake(port, pki.other, "TLSv1.2"),
      none13: await handshake(port, undefined),
      rogue13: await handshake(port, pki.rogueRa),
      serverOnly13: await handshake(port, pki.serverAsClient),
      none12: await handshake(port, undefined, "TLSv1.2"),
      rogue12: await handshake(port, pki.rogueRa, "TLSv1.2"),
      serverOnly12: await handshake(port, pki.serverAsClient, "TLSv1.2"),
    };
    expect(outcomes).toEqual({
      ra13: "accepted",
      other12: "accepted",
      // No certificate: OpenSSL itself refuses (SSL_VERIFY_FAIL_IF_NO_PEER_CERT) with an alert.
      none13: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
      // The handshake_failure alert (RFC 5246 7.2.2): OpenSSL 3.0 names it SSLV3_, 3.5 SSL/TLS_.
      none12: expect.stringMatching(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/),
      // A certificate that fails verification (unknown CA; EKU without clientAuth, OpenSSL's
      // ssl_client purpose): node's verify callback lets OpenSSL finish and its JS side then
      // destroys the socket without an alert — a reset inside the TLS 1.2 handshake, a close
      // right after the client's TLS 1.3 Finished (before any session ticket).
      rogue13: "closed without an alert",
      serverOnly13: "closed without an alert",
      rogue12: "ECONNRESET",
      serverOnly12: "ECONNRESET",
    });
    // So no request of any kind gets through, /healthz included.
    await expect(call(port, undefined, "GET", "/healthz")).rejects.toThrow();
    await expect(call(port, pki.rogueRa, "GET", "/healthz")).rejects.toThrow();
    await expect(call(port, pki.serverAsClient, "GET", `/v1/certificates/${issued}`)).rejects.toThrow();
    expect(await auditSeq()).toBe(seq);
    expect(await count()).toBe(n);
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});

describe("`pki-services issuing-ca` over mTLS (the CLI)", () => {
  let proc: ChildProcess | undefined;
  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  });

  it("starts with --tls-key/--tls-cert/--client-ca, audits config.loaded with the file's SHA-256, serves the RA, stops cleanly", async () => {
    const w = (name: string, b: Buffer) => {
      const f = join(tmp.dir, name);
      writeFileSync(f, b);
      return f;
    };
    const configFile = w("ca-config.json", Buffer.from(JSON.stringify(ca.config, null, 2)));
    const dbDir = join(tmp.dir, "cli-db");
    ca.token.close(); // the child process is the token's user from here on (SoftHSM: one writer)
    proc = spawn(
      process.execPath,
      [
        MAIN,
        "issuing-ca",
        "--config",
        configFile,
        "--db",
        dbDir,
        "--listen",
        "127.0.0.1:0",
        "--pool-size",
        "2",
        "--tls-key",
        w("srv.key", pki.server.key),
        "--tls-cert",
        w("srv.crt", pki.server.cert),
        "--client-ca",
        w("cli-ca.crt", pki.caCert),
      ],
      { env: { ...process.env, ...ca.hsm.env, TEST_HSM_PIN: ca.hsm.pin }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: proc!.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
      proc!.once("exit", (code) => reject(new Error(`issuing-ca exited with ${code}: ${stderr}`)));
    });
    const csr = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-cli");
    const r = await call(port, pki.ra, "POST", "/v1/certificates", { profile: "operator", csr });
    expect(r.status).toBe(201);
    expect((await call(port, pki.other, "POST", "/v1/certificates", { profile: "operator", csr })).status).toBe(403);
    expect(await handshake(port, undefined)).toBe("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
    const exited = new Promise<number | null>((resolve) => proc!.once("exit", resolve));
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);

    const db = await openDatabase({ url: dbDir });
    try {
      const rows = await db.query<{ event: string; actor: string; details: Record<string, unknown> }>("SELECT event, actor, details FROM audit_log ORDER BY seq");
      expect(rows.map((x) => x.event)).toEqual(["config.loaded", "service.start", "hsm.login", "cert.intent", "cert.issue", "access.denied", "service.stop"]);
      expect(rows[0]).toEqual({
        event: "config.loaded",
        actor: "system",
        details: {
          role: "issuing-ca",
          ca: "issuing-ca-1",
          environment: "test",
          source: configFile,
          sha256: createHash("sha256").update(readFileSync(configFile)).digest("hex"),
          profiles: ["ex-officio", "organisation", "tls-server", "smime", "operator", "ocsp"],
          keyAlgorithm: "ECDSA_P256",
          key: "issuing-ca-1",
          token: "lanic-issuing",
          raClientSubject: "lanic-ra",
        },
      });
      expect(rows[4].details).toMatchObject({ serial: r.body.serial, key: "issuing-ca-1", token: "lanic-issuing", purpose: "certificate" });
      expect(rows[5]).toMatchObject({ actor: "lanic-ocsp-signer" });
    } finally {
      await db.close();
    }
    const verify = execFileSync(process.execPath, [MAIN, "audit", "verify", "--db", dbDir]).toString();
    expect(verify).toBe("audit log OK: 7 records, chain intact\n");
  });
});
