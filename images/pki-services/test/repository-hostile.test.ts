/**
 * The repository under hostile publishers and a tampered disk: every published file is parsed
 * and verified (a CRL against the certificate of the CA it is named after), each publisher may
 * write only its own paths, and nothing outside the root is ever served.
 */
import { execFile } from "node:child_process";
import https from "node:https";
import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsmDigestSigner } from "../src/crl/digest-signer.js";
import { CrlPublisher } from "../src/crl/publisher.js";
import type { Listening } from "../src/ocsp/server.js";
import { mtlsRequest } from "../src/repository/client.js";
import { createLabTls, type LabTls } from "../src/lab/tls.js";
import { RepositoryStore, serveRepository, serveRepositoryPublish } from "../src/repository/server.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let tls: LabTls;
let store: RepositoryStore;
let pub: Listening;
let srv: Listening;
let crlDer: Buffer;
let leafDer: Buffer;
const lines: Record<string, unknown>[] = [];
const clients = new Map<string, ReturnType<LabTls["client"]>>();
const clientOf = (cn: string) => clients.get(cn) ?? clients.set(cn, tls.client(cn)).get(cn)!;

const put = async (cn: string, path: string, body: Buffer, contentType = "application/octet-stream") => {
  const r = await mtlsRequest(`https://127.0.0.1:${pub.port}${path}`, { method: "PUT", body, contentType, tls: clientOf(cn) });
  return { status: r.status, body: JSON.parse(r.body.toString()) as { error?: string } };
};
const get = (path: string) => fetch(`http://127.0.0.1:${srv.port}${path}`);

beforeAll(async () => {
  tmp = tempDir("repo-hostile");
  ca = await createTestCa(tmp.dir);
  db = await openDatabase({ url: "memory://" });
  tls = createLabTls(join(tmp.dir, "tls"));
  store = new RepositoryStore(join(tmp.dir, "repo"));
  pub = await serveRepositoryPublish(store, { host: "127.0.0.1", port: 0, key: tls.server.key, cert: tls.server.cert, clientCa: tls.ca, allowedClients: ["crl-publisher-*", "repository-operator"] }, (l) => lines.push(l));
  srv = await serveRepository(store, { host: "127.0.0.1", port: 0 });
  const out = join(tmp.dir, "out");
  mkdirSync(out);
  const p = new CrlPublisher({ config: ca.config, db, signer: hsmDigestSigner(ca.signer), caCertificate: Buffer.from(ca.caCert.rawData), outDir: out });
  crlDer = readFileSync((await p.publishOnce()).derPath);
  const { IssuingCa } = await import("../src/issuing-ca/service.js");
  const issuing = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 1 });
  const leaf = await issuing.issue({ profile: "ex-officio", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=MTC/title=Director/CN=leaf") }, "lanic-ra");
  leafDer = Buffer.from(leaf.certificate.replace(/-----[^-]+-----|\s/g, ""), "base64");
  await issuing.stop();
  expect((await put("repository-operator", "/certs/issuing-ca-1.der", Buffer.from(ca.caCert.rawData))).status).toBe(200);
  expect((await put("repository-operator", "/certs/root.der", Buffer.from(ca.rootCert.rawData))).status).toBe(200);
});
afterAll(async () => {
  await srv?.close();
  await pub?.close();
  await db?.close();
  ca?.token.close();
  tmp?.cleanup();
});

describe("the publish port verifies what is published", () => {
  const flip = (b: Buffer, at: number) => {
    const c = Buffer.from(b);
    c[at] ^= 0x01;
    return c;
  };
  const cases: [string, string, string, () => Buffer, number, RegExp][] = [
    ["a truncated CRL", "crl-publisher-issuing-ca-1", "/crl/issuing-ca-1.crl", () => crlDer.subarray(0, crlDer.length - 10), 422, /^not a valid CRL: .*(truncated|past the end)/],
    [
      "a CRL with bytes appended",
      "crl-publisher-issuing-ca-1",
      "/crl/issuing-ca-1.crl",
      () => Buffer.concat([crlDer, Buffer.alloc(4)]),
      422,
      /^not a valid CRL: the CertificateList is \d+ bytes but the file has \d+: truncated or padded$/,
    ],
    ["a CRL whose TBS was changed", "crl-publisher-issuing-ca-1", "/crl/issuing-ca-1.crl", () => flip(crlDer, 40), 422, /^not a valid CRL: /],
    ["a CRL published under another CA's name", "repository-operator", "/crl/root.crl", () => crlDer, 422, /^not a valid CRL: its issuer is not "CN=LANIC Test Root CA, O=MTC, C=LA" \(RFC 5280 5\.1\.2\.3\)$/],
    ["a CRL for a CA whose certificate is not published", "repository-operator", "/crl/nobody.crl", () => crlDer, 409, /^no \/certs\/nobody\.der is published/],
    ["a garbage certificate", "repository-operator", "/certs/garbage.der", () => Buffer.from("3003020101", "hex"), 422, /^not a DER X\.509 certificate/],
    [
      "a certificate with a byte appended",
      "repository-operator",
      "/certs/pad.der",
      () => Buffer.concat([Buffer.from(ca.caCert.rawData), Buffer.from([0])]),
      422,
      /^not a DER X\.509 certificate: not exactly one DER certificate$/,
    ],
    ["a subscriber (non-CA) certificate", "repository-operator", "/certs/leaf.der", () => leafDer, 422, /is not a CA certificate \(basicConstraints cA\)/],
    ["a PDF that is not one", "repository-operator", "/docs/cps.pdf", () => Buffer.from("<html>"), 422, /^not a PDF document/],
    ["text with a NUL", "repository-operator", "/docs/cps.txt", () => Buffer.from("CPS\u0000"), 422, /^a NUL character at offset 3/],
    ["text that is not UTF-8", "repository-operator", "/docs/cps.md", () => Buffer.from([0xff, 0xfe, 0x41]), 422, /^not UTF-8 text$/],
    ["HTML from the CRL publisher's identity", "crl-publisher-issuing-ca-1", "/docs/index.html", () => Buffer.from("<script>alert(1)</script>"), 403, /^"crl-publisher-issuing-ca-1" may not publish \/docs\/index\.html$/],
    ["a certificate from the CRL publisher's identity", "crl-publisher-issuing-ca-1", "/certs/issuing-ca-1.der", () => Buffer.from(ca.caCert.rawData), 403, /may not publish \/certs\/issuing-ca-1\.der/],
    ["another CA's CRL path from a CRL publisher", "crl-publisher-issuing-ca-2", "/crl/issuing-ca-1.crl", () => crlDer, 403, /^"crl-publisher-issuing-ca-2" may not publish \/crl\/issuing-ca-1\.crl$/],
  ];
  for (const [name, cn, path, body, status, message] of cases) {
    it(`${status}: ${name}, logged, nothing served`, async () => {
      const before = await get(path);
      const beforeBody = before.status === 200 ? Buffer.from(await before.arrayBuffer()) : undefined;
      const r = await put(cn, path, body());
      expect(r.status).toBe(status);
      expect(r.body.error).toMatch(message);
      expect(lines.at(-1)).toMatchObject({ event: "repository.publish.rejected", caller: cn, path, status, error: r.body.error });
      const after = await get(path);
      if (beforeBody) expect(Buffer.from(await after.arrayBuffer())).toEqual(beforeBody);
      else expect(after.status).toBe(404);
    });
  }

  it("415 for a wrong content type, 413 for a declared size over the folder's limit", async () => {
    expect(await put("repository-operator", "/docs/a.txt", Buffer.from("x"), "text/html")).toEqual({ status: 415, body: { error: `content-type must be application/octet-stream or text/plain, not "text/html"` } });
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const c = clientOf("repository-operator");
      const req = https.request(
        `https://127.0.0.1:${pub.port}/certs/big.der`,
        { method: "PUT", key: c.key, cert: c.cert, ca: c.ca, agent: false, headers: { "content-type": "application/pkix-cert", "content-length": (1 << 20) + 1 } },
        (res) => {
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => {
            resolve({ status: res.statusCode!, body: b });
            req.destroy();
          });
        },
      );
      req.on("error", reject);
      req.write(Buffer.alloc(16));
    });
    expect(big).toEqual({ status: 413, body: JSON.stringify({ error: "larger than 1048576 bytes" }) });
  });

  it("the genuine CRL is accepted from its own publisher, HTML from the operator is served sandboxed", async () => {
    expect((await put("crl-publisher-issuing-ca-1", "/crl/issuing-ca-1.crl", crlDer)).status).toBe(200);
    expect((await put("crl-publisher-issuing-ca-1-watch", "/crl/issuing-ca-1.crl", crlDer)).status).toBe(200);
    expect((await put("repository-operator", "/docs/index.html", Buffer.from("<p>CP/CPS</p><script>alert(1)</script>"))).status).toBe(200);
    const r = await get("/docs/index.html");
    expect(r.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; sandbox");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("never out of the root", () => {
  it("a symbolic link placed in the root is neither indexed nor served", async () => {
    const secret = join(tmp.dir, "secret.txt");
    writeFileSync(secret, "outside the root\n");
    symlinkSync(secret, join(tmp.dir, "repo", "docs", "leak.txt"));
    symlinkSync("/etc/passwd", join(tmp.dir, "repo", "docs", "passwd.txt"));
    const again = new RepositoryStore(join(tmp.dir, "repo"));
    await again.load();
    expect(again.get("/docs/leak.txt")).toBeUndefined();
    expect(again.skipped).toContainEqual({ path: "/docs/leak.txt", reason: "a symbolic link: never followed out of the root" });
    expect(again.skipped).toContainEqual({ path: "/docs/passwd.txt", reason: "a symbolic link: never followed out of the root" });
    expect(again.get("/crl/issuing-ca-1.crl")).toBeDefined(); // verified again against /certs at load
  });

  it("a published file swapped for a link after indexing is not served (O_NOFOLLOW)", async () => {
    expect((await put("repository-operator", "/docs/swap.txt", Buffer.from("published\n"))).status).toBe(200);
    expect(await (await get("/docs/swap.txt")).text()).toBe("published\n");
    const file = join(tmp.dir, "repo", "docs", "swap.txt");
    unlinkSync(file);
    symlinkSync("/etc/passwd", file);
    const r = await get("/docs/swap.txt");
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("not found\n");
  });

  it("a folder of the root that is a link out of it: the repository refuses to start, naming it", () => {
    const root = join(tmp.dir, "repo2");
    mkdirSync(root);
    symlinkSync("/etc", join(root, "docs"));
    expect(() => new RepositoryStore(root)).toThrow(`${join(root, "docs")} is a symbolic link: the repository serves only files inside its root`);
    rmSync(root, { recursive: true });
  });

  it("curl with ../ and encoded traversal gets 404", async () => {
    for (const p of ["/docs/../../secret.txt", "/docs/%2e%2e/%2e%2e/secret.txt", "/docs/..%2fsecret.txt"]) {
      const code = await new Promise<string>((r) => execFile("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", `http://127.0.0.1:${srv.port}${p}`], { encoding: "utf8" }, (_e, o) => r(o)));
      expect(code, p).toBe("404");
    }
  });
});
