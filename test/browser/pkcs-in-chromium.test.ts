/**
 * The RA pages' script (/static/enroll.js, built by images/pki-services/dist/ra/web/build-static.js)
 * in Debian's Chromium: the key pair and the CSR are made by the browser's WebCrypto, a test CA
 * (openssl) signs the CSR, the browser packages key + certificate + chain into a PKCS#12 that
 * `openssl pkcs12` opens — and no request the page made carries the private key.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { tempDir } from "../../images/pki-services/test/helpers.js";
import { launchChromium, screenshot } from "./chromium.js";

const STATIC = join(process.cwd(), "images/pki-services/dist/ra/web/static");
const env = { ...process.env, OPENSSL_CONF: "/dev/null" };
let tmp: ReturnType<typeof tempDir>;
let server: http.Server;
let origin: string;
let browser: Browser;
const bodies: string[] = [];

beforeAll(async () => {
  tmp = tempDir("chromium-pkcs");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=Browser Test CA/O=MTC/C=LA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    ],
    { cwd: tmp.dir, env, stdio: "ignore" },
  );
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      bodies.push(body);
      if (req.url === "/") {
        // The pages' CSP: scripts from this origin only, nothing inline.
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'" });
        res.end('<!doctype html><html lang="lo"><head><title>t</title><script type="module" src="/static/enroll.js"></script></head><body><p>ທົດສອບ</p></body></html>');
      } else if (req.url?.startsWith("/static/")) {
        res.writeHead(200, { "content-type": req.url.endsWith(".js") ? "text/javascript" : "text/css" });
        res.end(readFileSync(join(STATIC, req.url.slice("/static/".length))));
      } else if (req.url === "/sign" && req.method === "POST") {
        writeFileSync(join(tmp.dir, "req.pem"), body);
        execFileSync("openssl", ["x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "1", "-out", "leaf.pem"], { cwd: tmp.dir, env, stdio: "ignore" });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ certificate: readFileSync(join(tmp.dir, "leaf.pem"), "utf8"), chain: readFileSync(join(tmp.dir, "ca.pem"), "utf8") }));
      } else if (req.url === "/favicon.ico") {
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  tmp?.cleanup();
});

describe("enroll.js in Chromium", () => {
  it("makes the key and CSR with WebCrypto, builds a PKCS#12 openssl opens, and never sends the key", async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    await page.goto(`${origin}/`);
    // A string, not a function: vitest would rewrite a dynamic import() inside a function.
    const p12 = await page.evaluate<string>(`(async () => {
      const m = await import("/static/enroll.js");
      const keys = await m.generateKeyPair("ECDSA_P256");
      const csr = await m.createCsr(keys, "ECDSA_P256", "ທ້າວ ສົມຊາຍ");
      const r = await (await fetch("/sign", { method: "POST", body: csr })).json();
      const der = await m.buildPkcs12({ privateKey: keys.privateKey, certificate: r.certificate, chain: r.chain, password: "ລະຫັດຜ່ານ-2026", friendlyName: "ທ້າວ ສົມຊາຍ", iterations: 20000 });
      return btoa(String.fromCharCode(...der));
    })()`);
    await screenshot(page, "00-enroll-module-loaded");
    expect(consoleErrors).toEqual([]);
    writeFileSync(join(tmp.dir, "browser.p12"), Buffer.from(p12, "base64"));
    const opened = spawnSync("openssl", ["pkcs12", "-in", "browser.p12", "-passin", "pass:ລະຫັດຜ່ານ-2026", "-nodes", "-out", "all.pem"], { cwd: tmp.dir, encoding: "utf8", env });
    expect(opened.status, opened.stderr).toBe(0);
    const all = readFileSync(join(tmp.dir, "all.pem"), "utf8");
    expect(all.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(spawnSync("openssl", ["verify", "-CAfile", "ca.pem", "leaf.pem"], { cwd: tmp.dir, encoding: "utf8" }).stdout.trim()).toBe("leaf.pem: OK");
    const pub = (args: string[]) => spawnSync("openssl", args, { cwd: tmp.dir, encoding: "utf8", env }).stdout;
    expect(pub(["pkey", "-in", "all.pem", "-pubout"])).toBe(pub(["x509", "-in", "leaf.pem", "-noout", "-pubkey"]));
    // The key as PKCS#8 DER (base64) and as its raw private scalar: in none of the page's requests.
    const keyB64 = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END/.exec(all)![1].replace(/\s+/g, "");
    const keyDer = Buffer.from(keyB64, "base64");
    const scalar = keyDer
      .subarray(keyDer.length - 32 - 70, keyDer.length)
      .toString("base64")
      .slice(8, 40);
    for (const b of bodies) {
      expect(b).not.toContain(keyB64.slice(20, 60));
      expect(b).not.toContain(scalar);
      expect(b).not.toContain("PRIVATE KEY");
    }
    expect(bodies.some((b) => b.includes("BEGIN CERTIFICATE REQUEST"))).toBe(true);
  }, 120_000);
});
