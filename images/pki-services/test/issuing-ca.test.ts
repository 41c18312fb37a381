import { renameSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { serveIssuingCa } from "../src/issuing-ca/http.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { canonicalJson, verifyAudit } from "../src/audit/log.js";
import { IssuingCaServiceConfig } from "../src/config/schema.js";
import { VerifyPool } from "../src/pki/verify-pool.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let service: IssuingCa;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  tmp = tempDir("api");
  ca = await createTestCa(tmp.dir);
  db = await openDatabase({ url: "memory://" });
  service = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 4 });
  const srv = await serveIssuingCa(service, { host: "127.0.0.1", port: 0, identity: { kind: "insecure-test-header" } });
  base = `http://127.0.0.1:${srv.port}`;
  close = srv.close;
});
afterAll(async () => {
  await close?.();
  await service?.stop();
  await db?.close();
  ca?.token.close();
  tmp?.cleanup();
});

async function call(method: string, path: string, body?: unknown, identity = "lanic-ra") {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", "x-test-client-identity": identity },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const count = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM certificates"))[0].n);
const lastAudit = async () => (await db.query<{ event: string; actor: string; details: Record<string, unknown> }>("SELECT event, actor, details FROM audit_log ORDER BY seq DESC LIMIT 1"))[0];

describe("issuing-ca HTTP API", () => {
  it("issues from an openssl CSR, returns it by serial, revokes it with an RFC 5280 reason", async () => {
    const csr = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ/title=ຫົວໜ້າກົມ/CN=ທ້າວ ສົມພອນ");
    const r = await call("POST", "/v1/certificates", { profile: "ex-officio", csr });
    expect(r.status).toBe(201);
    const serial = r.body.serial as string;
    expect(serial).toMatch(/^[0-9a-f]{32}$/);
    const got = await call("GET", `/v1/certificates/${serial}`, undefined, "anyone-authenticated");
    expect(got).toMatchObject({ status: 200, body: { status: "issued", certificate: r.body.certificate, subject: "C=LA, O=ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ, title=ຫົວໜ້າກົມ, CN=ທ້າວ ສົມພອນ" } });
    expect(await call("POST", `/v1/certificates/${serial}/revoke`, { reason: "keyCompromise" })).toMatchObject({ status: 200 });
    expect((await call("GET", `/v1/certificates/${serial}`)).body).toMatchObject({ status: "revoked", revocationReason: 1 });
    expect(await call("POST", `/v1/certificates/${serial}/revoke`, { reason: "keyCompromise" })).toMatchObject({ status: 409, body: { messages: [`certificate ${serial} is already revoked`] } });
    expect(await call("POST", `/v1/certificates/${serial}/revoke`, { reason: "becauseISaidSo" })).toMatchObject({
      status: 400,
      body: { error: "bad_reason" },
    });
    expect((await call("GET", "/healthz")).body).toMatchObject({ ok: true, hsm: { ok: true }, db: { ok: true } });
  });

  it.each(["certificateHold", "removeFromCRL", "cACompromise", "aACompromise"])("refuses the revocation reason %s with a 400 naming the allowed ones, revokes nothing (BR 7.2.2)", async (reason) => {
    const r = await call("POST", "/v1/certificates", { profile: "operator", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-rev") });
    const serial = r.body.serial as string;
    expect(await call("POST", `/v1/certificates/${serial}/revoke`, { reason })).toMatchObject({
      status: 400,
      body: {
        error: "bad_reason",
        messages: [
          `reason "${reason}" must never be published for a subscriber certificate (BR 7.2.2, 4.9.13; RFC 5280 5.3.1); allowed: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn`,
        ],
      },
    });
    expect((await lastAudit()).event).toBe("cert.revoke.rejected");
    expect((await call("GET", `/v1/certificates/${serial}`)).body).toMatchObject({ status: "issued" });
    expect((await call("GET", "/healthz")).body).toMatchObject({ ok: true, hsm: { ok: true }, db: { ok: true } });
  });

  const good = () => opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-1");
  const badSig = () => {
    const pem = good();
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[30] ^= 1;
    return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
  };
  const cases: [string, () => unknown, number, string, string[] | RegExp, string?][] = [
    [
      "malformed CSR",
      () => ({ profile: "operator", csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" }),
      400,
      "bad_csr",
      ["CSR is not valid DER: CertificationRequest: expected tag 0x30, found 0x0"],
    ],
    ["bad CSR signature", () => ({ profile: "operator", csr: badSig() }), 400, "bad_csr", ["CSR signature does not verify with its public key (RFC 2986: proof of possession)"]],
    [
      "RSA-1024",
      () => ({ profile: "organisation", csr: opensslCsr(tmp.dir, "rsa:1024", "/C=LA/O=X/organizationIdentifier=L-1/CN=X") }),
      422,
      "lint_failed",
      [`key RSA 1024 is not allowed by profile "organisation" (allowed: ECDSA_P256, RSA_2048, RSA_3072) (BR 6.1.5)`],
    ],
    [
      "curve not allowed",
      () => ({ profile: "operator", csr: opensslCsr(tmp.dir, "ec:secp256k1", "/C=LA/O=X/CN=X") }),
      422,
      "lint_failed",
      [`key EC secp256k1 (1.3.132.0.10) is not allowed by profile "operator" (allowed: ECDSA_P256, ECDSA_P384) (BR 6.1.5)`],
    ],
    [
      "name the profile forbids",
      () => ({ profile: "operator", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=X/L=Vientiane/CN=X") }),
      422,
      "lint_failed",
      [`subject attribute L is not allowed by profile "operator" (allowed: CN, O, C, OU)`],
    ],
    ["profile that does not exist", () => ({ profile: "root-ca", csr: good() }), 422, "unknown_profile", [`profile "root-ca" does not exist (known: ex-officio, organisation, tls-server, smime, operator, ocsp)`]],
    ["oversized request", () => JSON.stringify({ profile: "operator", csr: "A".repeat(70_000) }), 413, "too_large", ["request body of 70031 bytes exceeds the limit of 65536 bytes"]],
    ["not JSON", () => "{nope", 400, "bad_json", ["request body must be a JSON object"]],
    ["unknown field", () => ({ profile: "operator", csr: good(), isCa: true }), 400, "bad_request", ["unknown field(s): isCa"]],
    ["caller is not the RA", () => ({ profile: "operator", csr: good() }), 403, "forbidden", [`client "ocsp-responder" may not issue: only the RA (lanic-ra) may`], "ocsp-responder"],
  ];
  it.each(cases)("refuses %s with a precise 4xx, audits it, stores nothing", async (_n, body, status, code, messages, identity) => {
    const before = await count();
    const r = await call("POST", "/v1/certificates", body(), identity);
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(code);
    expect(r.body.messages).toEqual(messages);
    expect(await count()).toBe(before);
    const a = await lastAudit();
    expect(a.event).toBe(status === 403 ? "access.denied" : "cert.request.rejected");
    expect(a.details.problems).toEqual(messages);
  });

  it("answers 503 with the reason while the HSM is away, reports unhealthy, and recovers by itself", async () => {
    const tokens = join(ca.hsm.dir, "tokens");
    const csr = good();
    renameSync(tokens, `${tokens}.away`);
    let down: Awaited<ReturnType<typeof call>>;
    try {
      down = await call("POST", "/v1/certificates", { profile: "operator", csr });
      const h = await call("GET", "/healthz");
      expect(h.status).toBe(503);
      expect(h.body).toMatchObject({ ok: false, hsm: { ok: false } });
      expect(String((h.body.hsm as { reason: string }).reason)).toMatch(/CKR_/);
    } finally {
      renameSync(`${tokens}.away`, tokens);
    }
    expect(down.status).toBe(503);
    expect(down.body.error).toBe("hsm_unavailable");
    expect((down.body.messages as string[])[0]).toMatch(/^HSM unavailable: CKR_/);
    // Nothing half-written: the reserved serial is recorded as failed, never as issued.
    expect(await db.query("SELECT status FROM certificates WHERE status = 'intent'")).toEqual([]);
    expect((await db.query<{ n: string }>("SELECT count(*) AS n FROM certificates WHERE status = 'failed'"))[0].n).toBe(1);
    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("POST", "/v1/certificates", { profile: "operator", csr })).status).toBe(201);
    const events = (await db.query<{ event: string }>("SELECT event FROM audit_log ORDER BY seq")).map((e) => e.event);
    expect(events).toContain("hsm.unavailable");
    expect(events).toContain("hsm.recovered");
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});

describe("revoke with an invalidity date (RFC 5280 5.3.2)", () => {
  const issueOne = async (cn: string) => {
    const r = await call("POST", "/v1/certificates", { profile: "operator", csr: opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=LANIC/CN=${cn}`) });
    expect(r.status).toBe(201);
    const serial = r.body.serial as string;
    const notBefore = new Date((await call("GET", `/v1/certificates/${serial}`)).body.notBefore as string);
    return { serial, notBefore };
  };
  const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");
  const stored = async (serial: string) => (await db.query<{ status: string; invalidity_date: Date | string | null }>("SELECT status, invalidity_date FROM certificates WHERE serial = $1", [serial]))[0];

  it("stores the date (to the second, any RFC 3339 offset), returns it, shows it, and audits it", async () => {
    const { serial, notBefore } = await issueOne("inv-ok");
    // notBefore itself, written with a +07:00 offset (Vientiane) and milliseconds: accepted, floored
    const local = new Date(notBefore.getTime() + 7 * 3600_000 + 250).toISOString().replace("Z", "+07:00");
    const r = await call("POST", `/v1/certificates/${serial}/revoke`, { reason: "keyCompromise", invalidityDate: local });
    expect(r).toEqual({ status: 200, body: { serial, status: "revoked", reason: "keyCompromise", invalidityDate: iso(notBefore) } });
    expect(new Date((await stored(serial)).invalidity_date!).getTime()).toBe(notBefore.getTime());
    expect((await call("GET", `/v1/certificates/${serial}`)).body).toMatchObject({ status: "revoked", revocationReason: 1, invalidityDate: iso(notBefore) });
    expect(await lastAudit()).toEqual({ event: "cert.revoke", actor: "lanic-ra", details: { ca: "issuing-ca-1", serial, reason: "keyCompromise", invalidityDate: notBefore.toISOString() } });
    // without a date: none stored, none returned
    const other = await issueOne("inv-none");
    expect(await call("POST", `/v1/certificates/${other.serial}/revoke`, { reason: "superseded" })).toEqual({ status: 200, body: { serial: other.serial, status: "revoked", reason: "superseded" } });
    expect((await stored(other.serial)).invalidity_date).toBeNull();
    expect((await call("GET", `/v1/certificates/${other.serial}`)).body.invalidityDate).toBeNull();
  });

  type Case = [string, (c: { serial: string; notBefore: Date }) => Record<string, unknown>, number, string, (c: { serial: string; notBefore: Date }) => string];
  const cases: Case[] = [
    [
      "one second before notBefore",
      (c) => ({ reason: "keyCompromise", invalidityDate: iso(new Date(c.notBefore.getTime() - 1000)) }),
      422,
      "bad_invalidity_date",
      (c) => `invalidityDate ${iso(new Date(c.notBefore.getTime() - 1000))} is before the certificate's notBefore ${iso(c.notBefore)}`,
    ],
    [
      "in the future",
      () => ({ reason: "keyCompromise", invalidityDate: "2099-01-01T00:00:00Z" }),
      422,
      "bad_invalidity_date",
      () => "invalidityDate 2099-01-01T00:00:00Z is in the future: it may not be later than the revocation (RFC 5280 5.3.2)",
    ],
    [
      "a minute in the future, as an offset",
      () => ({ reason: "keyCompromise", invalidityDate: new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000).toISOString().replace(".000Z", "+00:00") }),
      422,
      "bad_invalidity_date",
      () => /^invalidityDate \S+ is in the future/.source,
    ],
    [
      "without a time zone",
      () => ({ reason: "keyCompromise", invalidityDate: "2026-01-02T03:04:05" }),
      400,
      "bad_invalidity_date",
      () => `"invalidityDate" must be an RFC 3339 date-time with a time zone, e.g. "2026-01-02T03:04:05Z" (got "2026-01-02T03:04:05")`,
    ],
    [
      "an impossible calendar date",
      () => ({ reason: "keyCompromise", invalidityDate: "2026-02-30T00:00:00Z" }),
      400,
      "bad_invalidity_date",
      () => `"invalidityDate" must be an RFC 3339 date-time with a time zone, e.g. "2026-01-02T03:04:05Z" (got "2026-02-30T00:00:00Z")`,
    ],
    [
      "a number",
      () => ({ reason: "keyCompromise", invalidityDate: 1767323045 }),
      400,
      "bad_invalidity_date",
      () => `"invalidityDate" must be an RFC 3339 date-time with a time zone, e.g. "2026-01-02T03:04:05Z" (got 1767323045)`,
    ],
    ["a misspelt field", () => ({ reason: "keyCompromise", invalidity_date: "2026-01-02T03:04:05Z" }), 400, "bad_request", () => "unknown field(s): invalidity_date (known: reason, invalidityDate)"],
  ];
  it.each(cases)("refuses an invalidityDate %s with a precise 4xx, audits it, revokes nothing", async (name, body, status, code, message) => {
    const c = await issueOne(`inv-${name.replace(/\W+/g, "-")}`);
    const r = await call("POST", `/v1/certificates/${c.serial}/revoke`, body(c));
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(code);
    const expected = message(c);
    const messages = r.body.messages as string[];
    expect(messages).toHaveLength(1);
    if (expected.startsWith("^")) expect(messages[0]).toMatch(new RegExp(expected));
    else expect(messages[0]).toBe(expected);
    expect(await stored(c.serial)).toEqual({ status: "issued", invalidity_date: null });
    const a = await lastAudit();
    expect(a).toMatchObject({ event: "cert.revoke.rejected", actor: "lanic-ra", details: { ca: "issuing-ca-1", serial: c.serial, status, code, problems: messages } });
  });

  it("a date on an unknown or already revoked serial: 404 / 409, audited", async () => {
    expect(await call("POST", "/v1/certificates/abcdef/revoke", { reason: "keyCompromise", invalidityDate: "2026-01-02T03:04:05Z" })).toMatchObject({
      status: 404,
      body: { messages: ["no issued certificate with serial abcdef"] },
    });
    expect(await lastAudit()).toMatchObject({ event: "cert.revoke.rejected", details: { serial: "abcdef", code: "not_found", invalidityDate: "2026-01-02T03:04:05Z" } });
  });
});

describe("issuing-ca audit events", () => {
  const events = async (from: number) => db.query<{ seq: number; event: string; actor: string; details: Record<string, unknown> }>("SELECT seq, event, actor, details FROM audit_log WHERE seq > $1 ORDER BY seq", [from]);
  const head = async () => Number((await db.query<{ s: string }>("SELECT coalesce(max(seq), 0) AS s FROM audit_log"))[0].s);

  it("records config.loaded (SHA-256 of the configuration, profile names) before service.start", async () => {
    const [loaded, start] = await events(0);
    expect(start.event).toBe("service.start");
    expect(loaded).toEqual({
      seq: loaded.seq,
      event: "config.loaded",
      actor: "system",
      details: {
        role: "issuing-ca",
        ca: "issuing-ca-1",
        environment: "test",
        source: "(in-process object; SHA-256 of its canonical JSON)",
        sha256: createHash("sha256")
          .update(canonicalJson(IssuingCaServiceConfig.parse(ca.config)))
          .digest("hex"),
        profiles: ["ex-officio", "organisation", "tls-server", "smime", "operator", "ocsp"],
        keyAlgorithm: "ECDSA_P256",
        key: "issuing-ca-1",
        token: "lanic-issuing",
        raClientSubject: "lanic-ra",
      },
    });
    expect(loaded.details.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("records the key use of each issuance in its cert.issue record (key label, token, purpose, serial; ADR 0012)", async () => {
    const from = await head();
    const r = await call("POST", "/v1/certificates", { profile: "operator", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-key-use") });
    expect(r.status).toBe(201);
    const recs = await events(from);
    expect(recs.map((e) => e.event)).toEqual(["cert.intent", "cert.issue"]);
    expect(recs[1].actor).toBe("lanic-ra");
    expect(recs[1].details).toEqual({
      ca: "issuing-ca-1",
      serial: r.body.serial,
      profile: "operator",
      requestId: recs[0].details.requestId,
      key: "issuing-ca-1",
      token: "lanic-issuing",
      keyAlgorithm: "ECDSA_P256",
      purpose: "certificate",
    });
  });

  it("a signature that fails the check is discarded (500), its serial burnt, and its key use recorded as key.use", async () => {
    const from = await head();
    const before = await count();
    // The HSM returns a well-formed ECDSA signature that is not over this TBS.
    const spy = vi.spyOn(service.signer, "sign").mockImplementationOnce(async () => await service.signer.sign(Buffer.from("something else")));
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call("POST", "/v1/certificates", { profile: "operator", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-discarded") });
    } finally {
      spy.mockRestore();
    }
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: "signature_check_failed", messages: ["the HSM signature does not verify with the CA public key; certificate discarded"] });
    const recs = await events(from);
    expect(recs.map((e) => e.event)).toEqual(["cert.intent", "cert.issue.failed", "key.use"]);
    const serial = recs[0].details.serial as string;
    expect(recs[2]).toMatchObject({
      actor: "lanic-ra",
      details: {
        key: "issuing-ca-1",
        token: "lanic-issuing",
        keyAlgorithm: "ECDSA_P256",
        purpose: "certificate",
        serial,
        outcome: "discarded",
        reason: "the HSM signature does not verify with the CA public key; certificate discarded",
      },
    });
    expect(await count()).toBe(before + 1);
    expect((await service.store.get(serial))?.status).toBe("failed");
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});

describe("verify-after-sign in worker threads (VerifyPool)", () => {
  it("accepts the CA's signature, refuses another TBS or a broken signature, and verifies here when its thread is gone", async () => {
    const tbs = Buffer.from("a TBSCertificate");
    const sig = await service.signer.sign(tbs);
    const broken = Buffer.from(sig);
    broken[broken.length - 1] ^= 1;
    const pool = new VerifyPool(service.signer.spki, 1);
    try {
      expect(await Promise.all([pool.verify("sha256", tbs, sig), pool.verify("sha256", Buffer.from("another TBS"), sig), pool.verify("sha256", tbs, broken), pool.verify("sha384", tbs, sig)])).toEqual([
        true,
        false,
        false,
        false,
      ]);
      expect(pool.threads).toBe(1);
      await (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0].terminate();
      await new Promise((r) => setTimeout(r, 50));
      expect(pool.threads).toBe(0);
      expect(await Promise.all([pool.verify("sha256", tbs, sig), pool.verify("sha256", tbs, broken)])).toEqual([true, false]);
    } finally {
      await pool.close();
    }
    await expect(pool.verify("sha256", tbs, sig)).rejects.toThrow("verify pool is closed");
  });
});
