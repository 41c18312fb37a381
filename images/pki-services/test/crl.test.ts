/**
 * crl-publisher against SoftHSM + PGlite (and PostgreSQL 15 for the cursor and the CRL number
 * across a restart), checked with openssl and certtool.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsmDigestSigner } from "../src/crl/digest-signer.js";
import { derLength, putEntry } from "../src/crl/encode.js";
import { CrlPublisher } from "../src/crl/publisher.js";
import { serveIssuingCa } from "../src/issuing-ca/http.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let issuing: IssuingCa;
let pub: CrlPublisher;
const openssl = (args: string[]) => spawnSync("openssl", args, { encoding: "utf8", maxBuffer: 1 << 28 });

beforeAll(async () => {
  tmp = tempDir("crl");
  ca = await createTestCa(tmp.dir);
  db = await openDatabase({ url: "memory://" });
  issuing = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 2 });
  pub = new CrlPublisher({ config: ca.config, db, signer: hsmDigestSigner(ca.signer), caCertificate: Buffer.from(ca.caCert.rawData), outDir: tmp.dir, batchSize: 500 });
});
afterAll(async () => {
  await issuing?.stop();
  await db?.close();
  ca?.token.close();
  tmp?.cleanup();
});

/** How `openssl crl -text` prints a time: "Jan  2 03:04:05 2026 GMT". */
function opensslDate(d: Date): string {
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  return `${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
}

async function issue(cn: string): Promise<{ serial: string; file: string }> {
  const csr = opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=MTC/title=Director/CN=${cn}`);
  const r = await issuing.issue({ profile: "ex-officio", csr }, "lanic-ra");
  const file = join(tmp.dir, `${r.serial}.pem`);
  writeFileSync(file, r.certificate);
  return { serial: r.serial, file };
}

describe("CRL encoding", () => {
  it("encodes lengths beyond 16 MB and entries with reason and invalidity date (RFC 5280 5.3.1, 5.3.2)", () => {
    expect(derLength(0x1234567).toString("hex")).toBe("8401234567");
    const b = Buffer.alloc(100);
    const n = putEntry(b, 0, { serial: "00ff", revokedAt: "20260102030405", reason: 1, invalidity: "20260101000000" });
    expect(b.subarray(0, n).toString("hex")).toBe("303b" + "020200ff" + "170d3236303130323033303430355a" + "3026" + "300a0603551d1504030a0101" + "30180603551d180411180f32303236303130313030303030305a");
    // unspecified (0) → no reasonCode (BR 7.2.2); year 2050 → GeneralizedTime (RFC 5280 5.1.2.6)
    const m = putEntry(b, 0, { serial: "01", revokedAt: "20500101000000", reason: 0, invalidity: null });
    expect(b.subarray(0, m).toString("hex")).toBe("3014020101" + "180f32303530303130313030303030305a");
    expect(() => putEntry(b, 0, { serial: "01", revokedAt: "20260101000000", reason: 7, invalidity: null })).toThrow("reason 7 is not an RFC 5280 CRLReason");
  });

  it("streams 300,000 entries in a process whose heap is smaller than the CRL's entries as objects", () => {
    // A child with a 48 MB old space: 300,000 rows as JS objects plus the ~14 MB DER would not fit
    // if the encoder kept them; batches of 1,000 go straight to the temp file.
    const script = `
      import { writeCrl } from ${JSON.stringify(new URL("../dist/crl/encode.js", import.meta.url).href)};
      import { generateKeyPairSync, sign } from "node:crypto";
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const signer = { keyAlgorithm: "ECDSA_P256", hash: "sha256", spki: publicKey.export({ type: "spki", format: "der" }),
        signatureAlgorithm: Buffer.from("300a06082a8648ce3d040302", "hex"),
        signDigest: async (d) => { const { createSign } = await import("node:crypto"); return sign(null, d, { key: privateKey, dsaEncoding: "der" }) } };
      async function* rows() { for (let b = 0; b < 300; b++) { const out = []; for (let i = 0; i < 1000; i++) out.push({ serial: (0x4000000000000000n + BigInt(b * 1000 + i)).toString(16).padStart(32, "4"), revokedAt: "20260101000000", reason: (i % 5) + 1, invalidity: i % 2 ? "20251231000000" : null }); yield out; } }
      const r = await writeCrl({ issuerDer: Buffer.from("3000", "hex"), authorityKeyId: Buffer.alloc(20, 1), crlNumber: 1n, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86400000), signer, entries: rows(), out: process.argv[2] });
      console.log(JSON.stringify({ entries: r.entries, size: r.size, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    `;
    // The signer above hashes nothing itself: sign(null, digest) would sign the digest as a message,
    // so this child only checks the streaming and the memory bound; signatures are checked with SoftHSM below.
    const out = join(tmp.dir, "big.crl");
    const r = spawnSync(process.execPath, ["--max-old-space-size=48", "--max-semi-space-size=2", "--input-type=module", "-e", script, out], { encoding: "utf8" });
    // verification fails (the software signer signs the digest as data), which writeCrl reports:
    expect(r.stderr).toContain("does not verify");
    expect(r.stderr).not.toMatch(/heap out of memory|Allocation failed/);
  }, 60_000);
});

describe("crl-publisher", () => {
  let revoked: { serial: string; file: string };
  let good: { serial: string; file: string };

  it("publishes a signed v2 CRL that openssl and certtool read: reason, invalidity date, AKI, CRL number", async () => {
    good = await issue("Good One");
    revoked = await issue("Revoked One");
    // through the issuing CA's HTTP API, with an RFC 5280 5.3.2 invalidityDate (= its notBefore, the earliest allowed)
    const notBefore = (await issuing.store.get(revoked.serial))!.notBefore;
    const api = await serveIssuingCa(issuing, { host: "127.0.0.1", port: 0, identity: { kind: "insecure-test-header" } });
    try {
      const res = await fetch(`http://127.0.0.1:${api.port}/v1/certificates/${revoked.serial}/revoke`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-test-client-identity": "lanic-ra" },
        body: JSON.stringify({ reason: "keyCompromise", invalidityDate: notBefore.toISOString() }),
      });
      expect(res.status).toBe(200);
    } finally {
      await api.close();
    }
    // 10,000 more revoked rows straight into the table (the cursor reads them in batches of 500)
    await db.query(
      `INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, not_before, not_after, revoked_at, revocation_reason)
       SELECT '4' || lpad(to_hex(g), 31, '0'), 'issuing-ca-1', 'ex-officio', 'revoked', 'CN=x', '\\x00', now(), now() + interval '300 days', now() - interval '1 hour', (g % 5) + 1
       FROM generate_series(1, 10000) g`,
    );
    const p = await pub.publishOnce();
    expect(p.entries).toBe(10_001);
    const text = openssl(["crl", "-inform", "DER", "-in", p.derPath, "-noout", "-text"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("Version 2 (0x1)");
    expect(text.stdout).toContain("Issuer: CN = LANIC Test Issuing CA 1, O = MTC, C = LA");
    expect(text.stdout).toMatch(new RegExp(`X509v3 CRL Number: \\n\\s+${p.crlNumber.toString()}\\n`));
    expect(text.stdout).toContain("X509v3 Authority Key Identifier");
    const entry = text.stdout.slice(text.stdout.indexOf(`Serial Number: ${revoked.serial.toUpperCase()}`), text.stdout.indexOf(`Serial Number: ${revoked.serial.toUpperCase()}`) + 400);
    expect(entry).toMatch(/X509v3 CRL Reason Code: \n\s+Key Compromise/);
    expect(entry).toMatch(new RegExp(`Invalidity Date: \\n\\s+${opensslDate(notBefore)}\\n`));
    // a certificate revoked without a date has no Invalidity Date in its entry
    const plain = text.stdout.slice(text.stdout.indexOf("Serial Number: 40000000000000000000000000000001"), text.stdout.indexOf("Serial Number: 40000000000000000000000000000002"));
    expect(plain).toContain("X509v3 CRL Reason Code");
    expect(plain).not.toContain("Invalidity Date");
    // PEM with the X509 CRL label, which openssl reads and verifies with the CA certificate
    const pem = readFileSync(p.pemPath, "utf8");
    expect(pem.startsWith("-----BEGIN X509 CRL-----\n")).toBe(true);
    expect(openssl(["crl", "-in", p.pemPath, "-noout", "-CAfile", ca.caFile]).stderr).toContain("verify OK");
    const ct = spawnSync("certtool", ["--crl-info", "--inder", "--infile", p.derPath], { encoding: "utf8", maxBuffer: 1 << 28 });
    expect(ct.status).toBe(0);
    expect(ct.stdout).toContain("Revoked certificates (10001)");
  });

  it("openssl verify -crl_check: the revoked certificate is revoked, the other one is OK", () => {
    const chain = join(tmp.dir, "chain-crl.pem");
    writeFileSync(chain, ca.rootPem + readFileSync(join(tmp.dir, "issuing-ca-1.crl.pem"), "utf8"));
    const bad = openssl(["verify", "-crl_check", "-CAfile", chain, "-untrusted", ca.caFile, revoked.file]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain("certificate revoked");
    const ok = openssl(["verify", "-crl_check", "-CAfile", chain, "-untrusted", ca.caFile, good.file]);
    expect(ok.stdout).toContain(": OK");
  });

  it("CRL numbers strictly increase, are stored, and are never reused after a restart", async () => {
    const a = await pub.publishOnce();
    const restarted = new CrlPublisher({ ...pub.o });
    const b = await restarted.publishOnce();
    expect(b.crlNumber).toBeGreaterThan(a.crlNumber);
    const numbers = (await db.query<{ n: string }>(`SELECT crl_number::text AS n FROM crls WHERE ca_name = 'issuing-ca-1' ORDER BY this_update, crl_number`)).map((r) => BigInt(r.n));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect([...numbers].sort((x, y) => (x < y ? -1 : 1))).toEqual(numbers);
    // failover to a replica that lost the last commits: the time floor keeps the number above
    await db.query(`UPDATE crl_state SET last_number = 1`);
    const c = await restarted.publishOnce();
    expect(c.crlNumber).toBeGreaterThan(b.crlNumber);
    expect(c.crlNumber).toBeGreaterThanOrEqual(BigInt(Date.now() - 5000));
    const audit = await db.query<{ event: string }>(`SELECT event FROM audit_log WHERE event = 'crl.issue'`);
    expect(audit.length).toBe(numbers.length + 1);
  });

  it("watch(): a new CRL follows a revocation within the poll interval", async () => {
    const ac = new AbortController();
    const seen: bigint[] = [];
    const w = pub.watch({ pollSeconds: 0.2, signal: ac.signal, onPublished: (p) => seen.push(p.crlNumber) });
    await new Promise((r) => setTimeout(r, 1500));
    const before = seen.length;
    expect(await issuing.store.revoke(good.serial, "superseded", "lanic-ra")).toBe("revoked");
    const t0 = Date.now();
    while (seen.length === before && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await w;
    expect(seen.length).toBeGreaterThan(before);
    const text = openssl(["crl", "-inform", "DER", "-in", join(tmp.dir, "issuing-ca-1.crl"), "-noout", "-text"]).stdout;
    expect(text).toContain(`Serial Number: ${good.serial.toUpperCase()}`);
  });
});

describe("crl-publisher on PostgreSQL 15", () => {
  let pg: PgServer;
  afterAll(() => pg?.stop());
  it("streams from a server-side cursor and keeps the CRL number across a new connection pool", async () => {
    pg = await startPostgres();
    const d1 = await openDatabase({ url: pg.url });
    await d1.query(
      `INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, not_before, not_after, revoked_at, revocation_reason)
       SELECT '5' || lpad(to_hex(g), 31, '0'), 'issuing-ca-1', 'ex-officio', 'revoked', 'CN=x', '\\x00', now(), now() + interval '300 days', now() - interval '1 hour', 4
       FROM generate_series(1, 5000) g`,
    );
    const mk = (d: Database) => new CrlPublisher({ config: ca.config, db: d, signer: hsmDigestSigner(ca.signer), caCertificate: Buffer.from(ca.caCert.rawData), outDir: tmp.dir, batchSize: 1000 });
    const a = await mk(d1).publishOnce();
    await d1.close();
    const d2 = await openDatabase({ url: pg.url });
    const b = await mk(d2).publishOnce();
    await d2.close();
    expect(a.entries).toBe(5000);
    expect(b.crlNumber).toBeGreaterThan(a.crlNumber);
    expect(execFileSync("openssl", ["crl", "-inform", "DER", "-in", b.derPath, "-noout", "-CAfile", ca.caFile], { encoding: "utf8", stdio: "pipe" })).toBe("");
  });
});

describe("crl-publisher when the HSM fails", () => {
  it("burns the number, keeps the published CRL intact, audits nothing as issued", async () => {
    const { readFileSync: read } = await import("node:fs");
    const before = read(join(tmp.dir, "issuing-ca-1.crl"));
    const failing = new CrlPublisher({
      ...pub.o,
      signer: {
        ...hsmDigestSigner(ca.signer),
        signDigest: async () => {
          throw new Error("CKR_DEVICE_REMOVED");
        },
      },
    });
    const [{ n: last }] = await db.query<{ n: string }>(`SELECT last_number::text AS n FROM crl_state`);
    const issued = (await db.query(`SELECT 1 FROM audit_log WHERE event = 'crl.issue'`)).length;
    await expect(failing.publishOnce()).rejects.toThrow("CKR_DEVICE_REMOVED");
    expect(read(join(tmp.dir, "issuing-ca-1.crl")).equals(before)).toBe(true);
    const [{ n: after }] = await db.query<{ n: string }>(`SELECT last_number::text AS n FROM crl_state`);
    expect(BigInt(after)).toBeGreaterThan(BigInt(last)); // burnt, never reused
    expect((await db.query(`SELECT 1 FROM audit_log WHERE event = 'crl.issue'`)).length).toBe(issued);
    const next = await pub.publishOnce();
    expect(next.crlNumber).toBeGreaterThan(BigInt(after));
  });
});
