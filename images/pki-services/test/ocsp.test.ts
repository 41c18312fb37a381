/**
 * OCSP: signer (SoftHSM + PGlite) → mTLS push → public responder (no HSM, no DB), queried with
 * `openssl ocsp` and curl.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOcspTimes, OcspSigner } from "../src/ocsp/signer.js";
import { ocspHandler, ResponseCache, serveOcsp, serveOcspPublish, type Listening } from "../src/ocsp/server.js";
import { OcspPushTrust } from "../src/ocsp/push-trust.js";
import { HASH_ALG_DER, OID, parseRequest, summarizeResponse } from "../src/ocsp/protocol.js";
import { pushOcspResponses } from "../src/repository/client.js";
import { createLabTls } from "../src/lab/tls.js";
import { ctxCons, octets, oid, seq, uint } from "../src/pki/der.js";
import type { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";
import { createOcspTestBed, describeOpensslChecks, run, type OcspCheckContext } from "./ocsp-checks.js";
import { startPostgres, type PgServer } from "./pg-server.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let issuing: IssuingCa;
let signer: OcspSigner;
let cache: ResponseCache;
let pub: Listening;
let srv: Listening;
let url: string;
let responderFile: string;
const certs: Record<string, { serial: string; file: string }> = {};

async function issue(name: string): Promise<{ serial: string; file: string }> {
  const csr = opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=MTC/title=Director/CN=${name}`);
  const r = await issuing.issue({ profile: "ex-officio", csr }, "lanic-ra");
  const file = join(tmp.dir, `${name}.pem`);
  writeFileSync(file, r.certificate);
  return { serial: r.serial, file };
}

const ocsp = (args: string[]) => run("openssl", ["ocsp", "-timeout", "10", "-url", url, "-issuer", ca.caFile, "-CAfile", ca.rootFile, "-verify_other", ca.caFile, ...args]);

beforeAll(async () => {
  tmp = tempDir("ocsp");
  const bed = await createOcspTestBed(tmp.dir);
  ({ ca, db, issuing } = bed);
  // the delegated responder: key generated in the HSM, certificate issued by the CA (profile "ocsp")
  responderFile = join(tmp.dir, "responder.pem");
  writeFileSync(responderFile, bed.responderPem);
  certs.good = await issue("good");
  certs.revoked = await issue("revoked");
  certs.later = await issue("later");
  expect(await issuing.store.revoke(certs.revoked.serial, "keyCompromise", "lanic-ra")).toBe("revoked");

  // the public responder (serve) with its publish port, and the signer pushing over mTLS
  const tls = createLabTls(tmp.dir);
  cache = new ResponseCache();
  pub = await serveOcspPublish(cache, {
    host: "127.0.0.1",
    port: 0,
    key: tls.server.key,
    cert: tls.server.cert,
    clientCa: tls.ca,
    allowedClients: ["ocsp-signer-issuing-ca-1"],
    trust: new OcspPushTrust({ "issuing-ca-1": Buffer.from(ca.caCert.rawData) }),
  });
  srv = await serveOcsp(cache, { host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${srv.port}`;
  signer = bed.signer(`https://127.0.0.1:${pub.port}`, tls.client("ocsp-signer-issuing-ca-1"));
  await signer.checkResponderCertificate();
  const pass = await signer.syncOnce();
  expect(pass.signed).toBe(4); // responder, good, revoked, later
  expect(cache.size).toBe(8); // SHA-1 and SHA-256 CertIDs
});
afterAll(async () => {
  await srv?.close();
  await pub?.close();
  await issuing?.stop();
  await db?.close().catch(() => undefined);
  ca?.token.close();
  tmp?.cleanup();
});

describeOpensslChecks("ocsp-responder with openssl ocsp", () => ({
  ocsp,
  certs: certs as OcspCheckContext["certs"],
  revokeLater: async () => {
    expect(await issuing.store.revoke(certs.later.serial, "superseded", "lanic-ra")).toBe("revoked");
    await signer.syncOnce();
  },
}));

/** The database with a trace: the row count of each certificates query, in order with the pushes. */
function traced(d: Database, events: string[]): Database {
  return {
    kind: d.kind,
    transaction: (fn) => d.transaction(fn),
    close: () => d.close(),
    query: async <T>(sql: string, p?: unknown[]) => {
      const r = await d.query<T>(sql, p);
      if (/FROM certificates/.test(sql)) events.push(`rows ${r.length}`);
      return r;
    },
  };
}

/** A new signer (first load) over `d` with `batchSize`, pushing into its own cache. */
async function firstLoad(d: Database, batchSize?: number) {
  const events: string[] = [];
  const c = new ResponseCache();
  const s = new OcspSigner({
    ...signer.o,
    db: traced(d, events),
    batchSize,
    push: async (r) => {
      events.push(`push ${r.length}`);
      for (const x of r) c.put(x);
      return { instance: c.instance };
    },
  });
  const pass = await s.syncOnce();
  return { s, events, pass, content: [...c.map.entries()].map(([k, v]) => `${k} ${summarizeResponse(v.der).status}`).sort() };
}

/** Checks a batched first load of `live` certificates against an unbatched one. */
async function expectBatchedLoad(d: Database, live: number, batchSize: number) {
  const batched = await firstLoad(d, batchSize);
  const rows = batched.events.filter((e) => e.startsWith("rows")).map((e) => Number(e.slice(5)));
  // pages of at most batchSize rows, as many as needed (plus one empty read after a full last page)
  expect(rows).toEqual([...Array(Math.floor(live / batchSize)).fill(batchSize), live % batchSize]);
  expect(batched.pass).toMatchObject({ signed: live, batches: Math.ceil(live / batchSize) });
  // each page is signed and pushed before the next is read, never more than one page of responses at once
  expect(batched.events.indexOf(`push ${2 * batchSize}`)).toBe(1);
  expect(batched.events[2]).toBe(`push ${2 * batchSize}`); // the responder is new: everything so far (one page)
  expect(batched.events[3]).toBe(`rows ${Math.min(batchSize, live - batchSize)}`);
  for (const e of batched.events.filter((x) => x.startsWith("push"))) expect(Number(e.slice(5))).toBeLessThanOrEqual(2 * batchSize);
  // the same responses as one unbatched read
  const whole = await firstLoad(d);
  expect(whole.events.filter((e) => e.startsWith("rows"))).toEqual([`rows ${live}`]);
  expect(batched.content).toEqual(whole.content);
  expect(batched.content).toHaveLength(2 * live);
  return batched;
}

describe("OCSP signer: the first load reads certificates in pages", () => {
  it("on PGlite: pages of 3, each signed and pushed before the next is read, same responses as one read", async () => {
    const [{ n }] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM certificates WHERE ca_name = 'issuing-ca-1' AND status IN ('issued', 'revoked') AND not_after > now()`);
    expect(Number(n)).toBeGreaterThanOrEqual(4);
    await expectBatchedLoad(db, Number(n), 3);
  });

  it("refuses a batch size that is not a positive integer", async () => {
    await expect(new OcspSigner({ ...signer.o, batchSize: 0 }).syncOnce()).rejects.toThrow("batchSize must be a positive integer, not 0");
  });
});

describe("OCSP signer on PostgreSQL 15: pages on the first load and on later passes", () => {
  let pg: PgServer;
  let pgDb: Database;
  afterAll(async () => {
    await pgDb?.close();
    pg?.stop();
  });
  it("loads 25 live certificates in pages of 4 (expired and another CA's left out), then picks up a revocation", async () => {
    pg = await startPostgres();
    pgDb = await openDatabase({ url: pg.url });
    const rows = (prefix: string, ca: string, n: number, notAfter: string) =>
      pgDb.query(
        `INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, der, not_before, not_after, issued_at)
       SELECT '${prefix}' || lpad(to_hex(g), 31, '0'), '${ca}', 'ex-officio', 'issued', 'CN=x', '\\x00', '\\x00', now() - interval '1 day', now() + interval '${notAfter}', now() - interval '1 day'
       FROM generate_series(1, ${n}) g`,
      );
    await rows("6", "issuing-ca-1", 25, "300 days");
    await rows("7", "issuing-ca-1", 3, "-1 hour"); // expired
    await rows("8", "another-ca", 5, "300 days");
    const { s } = await expectBatchedLoad(pgDb, 25, 4);
    await pgDb.query(`UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 1 WHERE serial = '6' || lpad(to_hex(7), 31, '0')`);
    const pass = await s.syncOnce();
    expect(pass).toMatchObject({ signed: 1, batches: 1 });
    const revoked = s.entries.get(`6${"7".padStart(31, "0")}`)!;
    expect(revoked.status).toBe("revoked");
    expect(summarizeResponse(revoked.responses[0]).status).toBe("revoked");
  }, 60_000);
});

describe("ocsp-responder HTTP", () => {
  const reqFile = () => join(tmp.dir, "req.der");
  it("GET (RFC 6960 A.1) returns the same response as POST, with RFC 5019 cache headers and an ETag", async () => {
    spawnSync("openssl", ["ocsp", "-issuer", ca.caFile, "-cert", certs.good.file, "-no_nonce", "-reqout", reqFile()]);
    const der = (await import("node:fs")).readFileSync(reqFile());
    const post = await fetch(url, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: der });
    const get = await fetch(`${url}/${encodeURIComponent(der.toString("base64"))}`);
    expect(post.status).toBe(200);
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("application/ocsp-response");
    expect(Buffer.from(await get.arrayBuffer())).toEqual(Buffer.from(await post.arrayBuffer()));
    expect(get.headers.get("cache-control")).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/);
    const maxAge = Number(/max-age=(\d+)/.exec(get.headers.get("cache-control")!)![1]);
    expect(maxAge).toBeGreaterThan(23 * 3600);
    expect(new Date(get.headers.get("expires")!).getTime()).toBeGreaterThan(Date.now());
    const etag = get.headers.get("etag")!;
    const again = await fetch(`${url}/${encodeURIComponent(der.toString("base64"))}`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    const curl = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}", "--data-binary", `@${reqFile()}`, "-H", "Content-Type: application/ocsp-request", url]);
    expect(curl.stdout).toBe("200 application/ocsp-response");
  });

  const malformed = "30030a0101";
  const cases: [string, () => Promise<Response>][] = [
    ["garbage POST", () => fetch(url, { method: "POST", body: "hello" })],
    ["empty POST", () => fetch(url, { method: "POST", body: "" })],
    ["oversized POST", () => fetch(url, { method: "POST", body: Buffer.alloc(5000, 0x30) })],
    ["bad base64 GET", () => fetch(`${url}/%%%`)],
    ["GET of garbage", () => fetch(`${url}/aGVsbG8=`)],
    ["GET /", () => fetch(`${url}/`)],
    ["truncated DER", () => fetch(url, { method: "POST", body: Buffer.from("3082ffff30", "hex") })],
    ["unsupported hash (MD5)", () => fetch(url, { method: "POST", body: request({ alg: seq(oid("1.2.840.113549.2.5"), Buffer.from([5, 0])), hashLen: 16 }) })],
    ["an empty requestList", () => fetch(url, { method: "POST", body: request({ none: true }) })],
    ["nonce of 33 octets (RFC 8954 2.1)", () => fetch(url, { method: "POST", body: request({ nonce: Buffer.alloc(33, 7) }) })],
    ["nonce of 0 octets", () => fetch(url, { method: "POST", body: request({ nonce: Buffer.alloc(0) }) })],
    ["unknown critical extension", () => fetch(url, { method: "POST", body: request({ critical: true }) })],
    ["two nonces (RFC 5280 4.2: one instance of an extension)", () => fetch(url, { method: "POST", body: request({ nonce: Buffer.alloc(16, 1), secondNonce: Buffer.alloc(16, 2) }) })],
    ["the same nonce twice", () => fetch(url, { method: "POST", body: request({ nonce: Buffer.alloc(8, 1), secondNonce: Buffer.alloc(8, 1) }) })],
  ];
  for (const [name, send] of cases) {
    it(`malformedRequest + HTTP 400: ${name}`, async () => {
      const r = await send();
      expect(r.status).toBe(400);
      expect(Buffer.from(await r.arrayBuffer()).toString("hex")).toBe(malformed);
    });
  }

  it("several CertIDs (RFC 6960 4.1.1): the documented limit as an OCSP response, HTTP 200, malformedRequest and x-ocsp-limit (ADR 0072)", async () => {
    const r = await fetch(url, { method: "POST", body: request({ twice: true }), headers: { "content-type": "application/ocsp-request" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/ocsp-response");
    expect(r.headers.get("x-ocsp-limit")).toBe("one certificate per request (RFC 5019 2.1.1)");
    expect(Buffer.from(await r.arrayBuffer()).toString("hex")).toBe(malformed);
    expect(() => parseRequest(request({ twice: true }))).toThrow("requestList holds 2 requests; this responder answers one certificate per request (RFC 5019 2.1.1): send one request per certificate");
    // as OpenSSL reports it to a relying party that asks for two certificates at once
    const two = await ocsp(["-cert", certs.good.file, "-cert", certs.revoked.file]);
    expect(two.stdout + two.stderr).toContain("Responder Error: malformedrequest (1)");
    // and each certificate on its own is answered
    expect((await ocsp(["-cert", certs.good.file])).stdout).toContain(": good");
  });

  it("a nonce of 1..32 octets is accepted and parsed", () => {
    const p = parseRequest(request({ nonce: Buffer.alloc(32, 1) }));
    expect(p.nonce?.length).toBe(32);
    expect(p.serial).toBe("0102");
  });

  it("PUT and other methods: 405; the server is still up after all of the above", async () => {
    expect((await fetch(url, { method: "PUT", body: "x" })).status).toBe(405);
    const r = await ocsp(["-cert", certs.good.file]);
    expect(r.stdout).toContain(": good");
  });

  it("the publish port refuses a client without an allowed certificate", async () => {
    const other = createLabTlsOther();
    await expect(pushOcspResponses(`https://127.0.0.1:${pub.port}`, other, [])).rejects.toThrow(/HTTP 403|certificate|socket|ECONNRESET/);
  });

  it("a response past its nextUpdate is never served: tryLater", async () => {
    const old = new OcspSigner({ ...signer.o, push: undefined, now: () => new Date(Date.now() - 25 * 3600_000) });
    await old.syncOnce();
    const c = new ResponseCache();
    for (const d of old.all()) c.put(d, 0);
    const handler = ocspHandler(c);
    const s = (await import("node:http")).createServer(handler);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as { port: number }).port;
    spawnSync("openssl", ["ocsp", "-issuer", ca.caFile, "-cert", certs.good.file, "-no_nonce", "-reqout", reqFile()]);
    const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: (await import("node:fs")).readFileSync(reqFile()) });
    expect(Buffer.from(await r.arrayBuffer()).toString("hex")).toBe("30030a0103");
    s.close();
  });

  it("keeps answering from its cache while the database (and so the signer) is down", async () => {
    await db.close();
    await expect(signer.syncOnce()).rejects.toThrow();
    const r = await ocsp(["-cert", certs.good.file]);
    expect(r.stdout).toContain(`${certs.good.file}: good`);
    expect(r.stderr).toContain("Response verify OK");
  });
});

describe("configuration limits (BR 4.9.9)", () => {
  it.each([
    [{ enabled: true, responseValidityHours: 4, refreshHours: 1 }, "'ocsp.responseValidityHours' (4) must be between 8 and 240 (BR 4.9.9: 8 hours to 10 days)"],
    [{ enabled: true, responseValidityHours: 24, refreshHours: 20 }, "'ocsp.refreshHours' (20) must be at most 16 for 24-hour responses (BR 4.9.9: 8 hours before nextUpdate and within 4 days of thisUpdate)"],
    [{ enabled: true, responseValidityHours: 12, refreshHours: 7 }, "'ocsp.refreshHours' (7) must be at most 6 for 12-hour responses (BR 4.9.9: before half the validity)"],
  ])("%o", (c, message) => {
    expect(() => checkOcspTimes(c)).toThrow(message);
  });
});

/** A client certificate with the allowed CN from another CA: refused by the TLS handshake. */
function createLabTlsOther() {
  return createLabTls(join(tmp.dir, "other")).client("ocsp-signer-issuing-ca-1");
}

/** Hand-built OCSPRequests for the malformed cases. */
function request(o: { alg?: Buffer; hashLen?: number; twice?: boolean; none?: boolean; nonce?: Buffer; secondNonce?: Buffer; critical?: boolean }): Buffer {
  const n = o.hashLen ?? 20;
  const certId = seq(o.alg ?? HASH_ALG_DER.sha1, octets(Buffer.alloc(n, 1)), octets(Buffer.alloc(n, 2)), uint(Buffer.from([1, 2])));
  const reqs = o.none ? seq() : o.twice ? seq(seq(certId), seq(certId)) : seq(seq(certId));
  const exts: Buffer[] = [];
  if (o.nonce) exts.push(seq(oid(OID.nonce), octets(octets(o.nonce))));
  if (o.secondNonce) exts.push(seq(oid(OID.nonce), octets(octets(o.secondNonce))));
  if (o.critical) exts.push(seq(oid("1.2.3.4"), Buffer.from([1, 1, 0xff]), octets(Buffer.from([5, 0]))));
  return seq(seq(reqs, ...(exts.length ? [ctxCons(2, seq(...exts))] : [])));
}
