/**
 * repository: the CRL publisher pushes over mTLS; curl reads certificates, CRLs and documents
 * with their content types, cache headers, ETag and HEAD; no listing, 404 otherwise.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsmDigestSigner } from "../src/crl/digest-signer.js";
import { CrlPublisher } from "../src/crl/publisher.js";
import { mtlsRequest, publishFile } from "../src/repository/client.js";
import { createLabTls, type LabTls } from "../src/lab/tls.js";
import { RepositoryStore, serveRepository, serveRepositoryPublish } from "../src/repository/server.js";
import type { Listening } from "../src/ocsp/server.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let tls: LabTls;
let store: RepositoryStore;
let pub: Listening;
let srv: Listening;
let base: string;
let publishUrl: string;
let crl: Awaited<ReturnType<CrlPublisher["publishOnce"]>>;

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile("curl", ["-s", ...args], { encoding: "utf8", timeout: 20_000 }, (e, out) => (e ? reject(e) : resolve(out))));
}

beforeAll(async () => {
  tmp = tempDir("repo");
  ca = await createTestCa(tmp.dir);
  db = await openDatabase({ url: "memory://" });
  tls = createLabTls(tmp.dir);
  store = new RepositoryStore(join(tmp.dir, "repo"));
  pub = await serveRepositoryPublish(store, { host: "127.0.0.1", port: 0, key: tls.server.key, cert: tls.server.cert, clientCa: tls.ca, allowedClients: ["crl-publisher-issuing-ca-1", "repository-operator"] });
  srv = await serveRepository(store, { host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${srv.port}`;
  publishUrl = `https://127.0.0.1:${pub.port}`;
  await db.query(
    `INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, not_before, not_after, revoked_at, revocation_reason)
     SELECT '4' || lpad(to_hex(g), 31, '0'), 'issuing-ca-1', 'ex-officio', 'revoked', 'CN=x', '\\x00', now(), now() + interval '300 days', now(), 1 FROM generate_series(1, 100) g`,
  );
  // the CA certificate first: the CRL named after the CA is verified against it
  const operator = tls.client("repository-operator");
  const caDer = join(tmp.dir, "issuing-ca-1.der");
  writeFileSync(caDer, Buffer.from(ca.caCert.rawData));
  await publishFile(publishUrl, operator, "certs/issuing-ca-1.der", caDer);
  const client = tls.client("crl-publisher-issuing-ca-1");
  const out = join(tmp.dir, "out");
  mkdirSync(out);
  const publisher = new CrlPublisher({
    config: ca.config,
    db,
    signer: hsmDigestSigner(ca.signer),
    caCertificate: Buffer.from(ca.caCert.rawData),
    outDir: out,
    publish: (file, name) => publishFile(publishUrl, client, `crl/${name}`, file),
  });
  crl = await publisher.publishOnce();
  const cps = join(tmp.dir, "cps.txt");
  writeFileSync(cps, "Lao Government CA CP/CPS v1.0\n");
  await publishFile(publishUrl, operator, "docs/cps.txt", cps);
});
afterAll(async () => {
  await srv?.close();
  await pub?.close();
  await db?.close();
  ca?.token.close();
  tmp?.cleanup();
});

describe("repository", () => {
  it("serves the CA certificate as DER at /certs/<ca>.der (application/pkix-cert), readable by openssl", async () => {
    expect(await curl(["-o", join(tmp.dir, "got.der"), "-w", "%{http_code} %{content_type}", `${base}/certs/issuing-ca-1.der`])).toBe("200 application/pkix-cert");
    const subject = await new Promise<string>((r) => execFile("openssl", ["x509", "-inform", "DER", "-in", join(tmp.dir, "got.der"), "-noout", "-subject"], { encoding: "utf8" }, (_e, o) => r(o)));
    expect(subject).toContain("LANIC Test Issuing CA 1");
  });

  it("serves the CRL at /crl/<ca>.crl (application/pkix-crl) with caching that ends at nextUpdate", async () => {
    const headers = await curl(["-D", "-", "-o", join(tmp.dir, "got.crl"), `${base}/crl/issuing-ca-1.crl`]);
    expect(headers).toMatch(/^HTTP\/1.1 200/);
    expect(headers).toMatch(/content-type: application\/pkix-crl\r\n/i);
    expect(headers.toLowerCase()).toContain(`expires: ${crl.nextUpdate.toUTCString().toLowerCase()}`);
    expect(headers.toLowerCase()).toContain(`last-modified: ${crl.thisUpdate.toUTCString().toLowerCase()}`);
    const maxAge = Number(/max-age=(\d+)/.exec(headers)![1]);
    const expected = (crl.nextUpdate.getTime() - Date.now()) / 1000;
    expect(Math.abs(maxAge - expected)).toBeLessThan(5);
    const text = await new Promise<string>((r) => execFile("openssl", ["crl", "-inform", "DER", "-in", join(tmp.dir, "got.crl"), "-noout", "-CAfile", ca.caFile], { encoding: "utf8" }, (_e, o, err) => r(o + err)));
    expect(text).toContain("verify OK");
  });

  it("ETag + If-None-Match → 304; HEAD gives the headers and no body", async () => {
    const h = await curl(["-I", `${base}/crl/issuing-ca-1.crl`]);
    expect(h).toMatch(/^HTTP\/1.1 200/);
    expect(h).toMatch(new RegExp(`content-length: ${crl.size}\\r\\n`, "i"));
    const etag = /etag: (".*")/i.exec(h)![1];
    expect(await curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", `If-None-Match: ${etag}`, `${base}/crl/issuing-ca-1.crl`])).toBe("304");
    expect(await curl(["-w", "%{http_code} %{content_type}", `${base}/docs/cps.txt`])).toBe("Lao Government CA CP/CPS v1.0\n200 text/plain; charset=utf-8");
  });

  it.each(["/", "/crl/", "/crl", "/certs/", "/docs/", "/crl/other-ca.crl", "/../etc/passwd", "/crl/issuing-ca-1.crl.pem", "/crl/issuing-ca-1.crl/x"])("404 for %s (no directory listing)", async (path) => {
    expect(await curl(["-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", `${base}${path}`])).toBe("404");
  });

  it("POST/PUT on the public port: 405", async () => {
    expect(await curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data", "x", `${base}/crl/issuing-ca-1.crl`])).toBe("405");
  });

  it("the publish port refuses unknown clients, bad paths and a CRL that is not one", async () => {
    const stranger = createLabTls(join(tmp.dir, "x")).client("crl-publisher-issuing-ca-1"); // same CN, other CA
    await expect(mtlsRequest(`${publishUrl}/crl/evil.crl`, { method: "PUT", body: Buffer.from("x"), tls: { ...stranger, ca: tls.ca } })).rejects.toThrow();
    const wrongCn = tls.client("someone-else");
    expect((await mtlsRequest(`${publishUrl}/crl/evil.crl`, { method: "PUT", body: Buffer.from("x"), tls: wrongCn })).status).toBe(403);
    const op = tls.client("repository-operator");
    expect((await mtlsRequest(`${publishUrl}/crl/../x.crl`, { method: "PUT", body: Buffer.from("x"), tls: op })).status).toBe(404);
    expect((await mtlsRequest(`${publishUrl}/crl/bad.crl`, { method: "PUT", body: Buffer.from("not a crl"), contentType: "application/pkix-crl", tls: op })).status).toBe(409); // no /certs/bad.der
    expect(await curl(["-o", "/dev/null", "-w", "%{http_code}", `${base}/crl/bad.crl`])).toBe("404");
  });

  it("never replaces a CRL by an older one (CronJob and watcher racing)", async () => {
    const older = join(tmp.dir, "older");
    mkdirSync(older);
    const p = new CrlPublisher({ config: ca.config, db, signer: hsmDigestSigner(ca.signer), caCertificate: Buffer.from(ca.caCert.rawData), outDir: older, now: () => new Date(Date.now() - 3_600_000) });
    const old = await p.publishOnce();
    const op = tls.client("repository-operator");
    const r = await mtlsRequest(`${publishUrl}/crl/issuing-ca-1.crl`, { method: "PUT", body: (await import("node:fs")).readFileSync(old.derPath), contentType: "application/octet-stream", tls: op });
    expect(r.status).toBe(409);
    expect(r.body.toString()).toContain("a newer CRL");
    expect(store.get("/crl/issuing-ca-1.crl")?.expires).toBe(crl.nextUpdate.getTime());
  });

  it("a restarted repository serves what was published", async () => {
    const again = new RepositoryStore(join(tmp.dir, "repo"));
    expect(await again.load()).toBe(3);
    expect(again.get("/crl/issuing-ca-1.crl")?.expires).toBe(crl.nextUpdate.getTime());
  });
});
