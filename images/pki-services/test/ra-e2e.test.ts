/**
 * End to end through the RA's API (ADRs 0060, 0061), against SoftHSM and PostgreSQL 15 (the RA's
 * store and the CA database, two databases): apply → review → approve → enroll → issue → revoke,
 * then the CRL and OCSP show it, checked with openssl. The subject comes from the vetted data;
 * the issuing CA honours the idempotency key.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CP_PROFILES } from "../../../environments/cp.js";
import { IssuingCaServiceConfig, Profile } from "../src/config/schema.js";
import { hsmDigestSigner } from "../src/crl/digest-signer.js";
import { CrlPublisher } from "../src/crl/publisher.js";
import { serveIssuingCa } from "../src/issuing-ca/http.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { responderCsr } from "../src/ocsp/responder-cert.js";
import { ResponseCache, serveOcsp, type Listening } from "../src/ocsp/server.js";
import { OcspSigner } from "../src/ocsp/signer.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";
import { auditRecords, makeRaPki, raCall, raConfig, startRa, type RaPki, type RunningRa, type Speaker } from "./ra-harness.js";

let tmp: ReturnType<typeof tempDir>;
let pgs: PgServer;
let pki: RaPki;
let ca: TestCa;
let caDb: Database;
let issuing: IssuingCa;
let caSrv: { port: number; close(): Promise<void> };
let ra: RunningRa;
const call = <T = Record<string, any>>(s: Speaker, method: string, path: string, body?: unknown) => raCall<T>(pki, ra.port, s, method, path, body);
const op = (who: keyof RaPki): Speaker => ({ as: "operator", who: pki[who] as never });

const run = (cmd: string, args: string[]): Promise<{ code: number; out: string }> =>
  new Promise((resolve) => execFile(cmd, args, { encoding: "utf8", timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` })));

async function startCaWithCpProfiles(dir: string, dbUrl: string, p: RaPki): Promise<{ ca: TestCa; db: Database; issuing: IssuingCa; srv: { port: number; close(): Promise<void> } }> {
  const ca = await createTestCa(dir);
  const cp = Object.fromEntries(Object.entries(CP_PROFILES).map(([n, pr]) => [n, Profile.parse(pr)]));
  const config = IssuingCaServiceConfig.parse({ ...ca.config, profiles: { ...ca.config.profiles, ...cp } });
  const db = await openDatabase({ url: dbUrl });
  const issuing = await IssuingCa.start({ config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 4, reconcileGraceSeconds: 0 });
  const srv = await serveIssuingCa(issuing, { host: "127.0.0.1", port: 0, identity: { kind: "mtls", key: p.caServer.key, cert: p.caServer.cert, clientCa: p.caPem } });
  return { ca, db, issuing, srv };
}

beforeAll(async () => {
  tmp = tempDir("ra-e2e");
  pgs = await startPostgres();
  const admin = new pg.Client({ connectionString: pgs.url });
  await admin.connect();
  await admin.query("CREATE DATABASE ra");
  await admin.end();
  pki = makeRaPki(tmp.dir);
  const c = await startCaWithCpProfiles(tmp.dir, pgs.url, pki);
  ({ ca, db: caDb, issuing } = c);
  caSrv = c.srv;
  ra = await startRa(raConfig(pki, tmp.dir, `https://127.0.0.1:${caSrv.port}`), pgs.url.replace(/\/postgres$/, "/ra"));
});
afterAll(async () => {
  await ra?.close();
  await caSrv?.close();
  await issuing?.stop();
  await caDb?.close();
  pgs?.stop();
  tmp?.cleanup();
});

const EX_OFFICIO = {
  kind: "ex-officio-signing",
  fields: { holderName: "ສົມສັກ ວົງສາ", position: "ຫົວໜ້າກົມ", ministry: "ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ", email: "somsak@mtc.gov.la", appointmentReference: "123/MTC" },
};

async function vet(id: string): Promise<Record<string, any>> {
  expect((await call(op("officer"), "POST", `/api/v1/applications/${id}/start-review`, {})).status).toBe(200);
  expect((await call(op("officer"), "POST", `/api/v1/applications/${id}/accept`, {})).status).toBe(200);
  const r = await call(op("approver"), "POST", `/api/v1/applications/${id}/approve`, {});
  expect(r.status, r.text).toBe(200);
  return r.body;
}

function certFile(name: string, pem: string): string {
  const f = join(tmp.dir, `${name}.pem`);
  writeFileSync(f, pem);
  return f;
}

describe("apply → review → approve → enroll → issue → revoke → CRL and OCSP", () => {
  let enrolled: { id: string; pem: string; serial: string; file: string };
  let withCsr: { id: string; token: string; pem: string; serial: string; file: string; secret: string };

  it("enrollment: the holder's CSR gives the key only; the subject is the vetted data", async () => {
    const sub = await call({ as: "applicant" }, "POST", "/api/v1/applications", EX_OFFICIO);
    expect(sub.status, sub.text).toBe(201);
    const id = sub.body.application.id;
    const { enrollmentCode } = await vet(id);
    // The CSR claims another name and asks for extensions: both ignored.
    const csr = opensslCsr(tmp.dir, "ec:P-256", "/CN=Mallory/O=Evil Corp/C=TH", ["subjectAltName=DNS:evil.example", "basicConstraints=CA:TRUE"]);
    const r = await call({ as: "applicant" }, "POST", "/api/v1/enroll", { code: enrollmentCode.toLowerCase().replace(/-/g, " "), csr });
    expect(r.status, r.text).toBe(200);
    expect(r.body.application.state).toBe("delivered");
    expect(r.body.revocationSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    enrolled = { id, pem: r.body.certificate, serial: r.body.application.serial, file: certFile("enrolled", r.body.certificate) };
    const text = execFileSync("openssl", ["x509", "-in", enrolled.file, "-noout", "-subject", "-ext", "subjectAltName,basicConstraints", "-nameopt", "utf8,sep_comma_plus_space"]).toString();
    expect(text).toContain("subject=C=LA, O=ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ, title=ຫົວໜ້າກົມ, CN=ສົມສັກ ວົງສາ");
    expect(text).toContain("email:somsak@mtc.gov.la");
    expect(text).not.toMatch(/Mallory|Evil|evil\.example|CA:TRUE/);
    const v = await run("openssl", ["verify", "-CAfile", ca.rootFile, "-untrusted", ca.caFile, enrolled.file]);
    expect(v.out).toContain(": OK");
  });

  it("an enrollment code works once; an unknown one is refused; each refusal is audited", async () => {
    const csr = opensslCsr(tmp.dir, "ec:P-256", "/CN=x");
    const unknown = await call({ as: "applicant" }, "POST", "/api/v1/enroll", { code: "AAAA-BBBB-CCCC-DDDD-EEEE", csr });
    expect(unknown.status).toBe(404);
    expect(unknown.body.messages).toEqual(["enrollment code unknown"]);
    const recs = await auditRecords(ra.db);
    expect(recs.filter((x) => x.event === "ra.request.rejected" && x.details.what === "enroll")).toHaveLength(1);
  });

  it("with a CSR: approval issues at once; the applicant fetches it once with the revocation secret", async () => {
    const csr = opensslCsr(tmp.dir, "rsa:3072", "/CN=ignored");
    const sub = await call({ as: "applicant" }, "POST", "/api/v1/applications", { ...EX_OFFICIO, csr });
    const id = sub.body.application.id;
    const token = sub.body.accessToken;
    const ap = await vet(id);
    expect(ap.application.state).toBe("issued");
    expect(ap.enrollmentCode).toBeUndefined();
    const d = await call({ as: "applicant", token }, "POST", `/api/v1/applications/${id}/deliver`);
    expect(d.status, d.text).toBe(200);
    withCsr = { id, token, pem: d.body.certificate, serial: d.body.application.serial, file: certFile("with-csr", d.body.certificate), secret: d.body.revocationSecret };
    expect((await call({ as: "applicant", token }, "POST", `/api/v1/applications/${id}/deliver`)).status).toBe(409);
  });

  it("the issuing CA honours the idempotency key: a retry returns the same certificate, nothing new is signed", async () => {
    const before = await caDb.query<{ n: number }>("SELECT count(*)::int AS n FROM certificates");
    const app = (await ra.service.get(withCsr.id))!;
    const kind = ra.service.kind(app.kind);
    const again = await ra.service.ca.issue({ profile: kind.profile, csr: app.csr!, subject: (await import("../src/ra/service.js")).vettedSubject(kind, app.fields), idempotencyKey: app.id });
    expect(again.serial).toBe(withCsr.serial);
    expect(await caDb.query("SELECT count(*)::int AS n FROM certificates")).toEqual(before);
    // The same key with another request is refused.
    await expect(ra.service.ca.issue({ profile: kind.profile, csr: opensslCsr(tmp.dir, "ec:P-384", "/CN=x"), subject: { attributes: [], dns: [], email: [] }, idempotencyKey: app.id })).rejects.toThrow(
      `idempotency key ${app.id} was used for another request (certificate ${withCsr.serial})`,
    );
  });

  it("revocation: BR 7.2.2 reasons; the subscriber with its secret, not privilegeWithdrawn; an ra-operator", async () => {
    const bad = await call({ as: "applicant" }, "POST", `/api/v1/applications/${withCsr.id}/revoke`, { reason: "privilegeWithdrawn", revocationSecret: withCsr.secret });
    expect(bad.status).toBe(400);
    expect(bad.body.messages[0]).toBe(`reason "privilegeWithdrawn" is not one a subscriber may give (BR 7.2.2: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation)`);
    const wrong = await call({ as: "applicant" }, "POST", `/api/v1/applications/${withCsr.id}/revoke`, { reason: "superseded", revocationSecret: "x".repeat(43) });
    expect(wrong.status).toBe(403);
    const hold = await call(op("raOperator"), "POST", `/api/v1/applications/${enrolled.id}/revoke`, { reason: "certificateHold" });
    expect(hold.status).toBe(400);
    const notOp = await call(op("officer"), "POST", `/api/v1/applications/${enrolled.id}/revoke`, { reason: "keyCompromise" });
    expect(notOp.status).toBe(403);
    const sub = await call({ as: "applicant" }, "POST", `/api/v1/applications/${withCsr.id}/revoke`, { reason: "superseded", revocationSecret: withCsr.secret });
    expect(sub.status, sub.text).toBe(200);
    expect(sub.body).toMatchObject({ state: "revoked", revocationReason: "superseded" });
    const opr = await call(op("raOperator"), "POST", `/api/v1/applications/${enrolled.id}/revoke`, { reason: "keyCompromise" });
    expect(opr.body).toMatchObject({ state: "revoked", revocationReason: "keyCompromise" });
    const recs = (await auditRecords(ra.db)).filter((x) => x.event === "ra.revoke");
    expect(recs.map((x) => [x.actor, x.details.reason])).toEqual([
      [`subscriber:${withCsr.id}`, "superseded"],
      ["C=LA,O=MTC,CN=Noy Keomany", "keyCompromise"],
    ]);
  });

  it("the CRL lists both with their reasons (openssl crl, openssl verify -crl_check)", async () => {
    const pub = new CrlPublisher({ config: issuing.config, db: caDb, signer: hsmDigestSigner(ca.signer), caCertificate: Buffer.from(ca.caCert.rawData), outDir: tmp.dir });
    const crl = await pub.publishOnce();
    const crlPem = crl.pemPath;
    const text = execFileSync("openssl", ["crl", "-in", crlPem, "-noout", "-text"]).toString();
    expect(text).toContain(`Serial Number: ${enrolled.serial.toUpperCase()}`);
    expect(text).toMatch(new RegExp(`${enrolled.serial.toUpperCase()}[\\s\\S]*?Key Compromise`));
    expect(text).toMatch(new RegExp(`${withCsr.serial.toUpperCase()}[\\s\\S]*?Superseded`));
    const chain = join(tmp.dir, "chain.pem");
    writeFileSync(chain, ca.rootPem + ca.caPem);
    const v = await run("openssl", ["verify", "-crl_check", "-CAfile", chain, "-CRLfile", crlPem, enrolled.file]);
    expect(v.out).toContain("certificate revoked");
  });

  it("OCSP answers revoked, keyCompromise (openssl ocsp)", async () => {
    await ca.token.generateKeyPair("ocsp-e2e", "ECDSA_P256");
    const responderSigner = await ca.token.signer("ocsp-e2e", "ECDSA_P256");
    const r = await issuing.issue({ profile: "ocsp", csr: await responderCsr(responderSigner, "CN=LANIC OCSP e2e,O=MTC,C=LA"), validityDays: 30 }, "lanic-ra");
    const cache = new ResponseCache();
    const signer = new OcspSigner({
      config: issuing.config,
      db: caDb,
      signer: hsmDigestSigner(responderSigner),
      responderCertificate: Buffer.from(r.certificate.replace(/-----[^-]+-----|\s/g, ""), "base64"),
      caCertificate: Buffer.from(ca.caCert.rawData),
      push: async (resps) => {
        for (const x of resps) cache.put(x);
        return { instance: cache.instance };
      },
    });
    await signer.syncOnce();
    const srv: Listening = await serveOcsp(cache, { host: "127.0.0.1", port: 0 });
    try {
      const o = await run("openssl", ["ocsp", "-timeout", "10", "-url", `http://127.0.0.1:${srv.port}`, "-issuer", ca.caFile, "-CAfile", ca.rootFile, "-verify_other", ca.caFile, "-cert", enrolled.file]);
      expect(o.out).toContain(`${enrolled.file}: revoked`);
      expect(o.out).toContain("Reason: keyCompromise");
      expect(o.out).toContain("Response verify OK");
    } finally {
      await srv.close();
    }
  });

  it("the expiring list (ra-operator) and renewal: a new application pre-filled from the old one", async () => {
    const csr = opensslCsr(tmp.dir, "ec:P-384", "/CN=ignored");
    const sub = await call({ as: "applicant" }, "POST", "/api/v1/applications", { ...EX_OFFICIO, csr });
    const { id } = sub.body.application;
    expect((await vet(id)).application.state).toBe("issued");
    const soon = await call(op("raOperator"), "GET", "/api/v1/certificates/expiring?days=400");
    expect(soon.body.applications.map((a: { id: string }) => a.id)).toContain(id);
    expect((await call(op("raOperator"), "GET", "/api/v1/certificates/expiring?days=30")).body.applications).toEqual([]);
    expect((await call(op("officer"), "GET", "/api/v1/certificates/expiring?days=30")).status).toBe(403);
    const ren = await call({ as: "applicant", token: sub.body.accessToken }, "POST", `/api/v1/applications/${id}/renew`, {});
    expect(ren.status, ren.text).toBe(201);
    expect(ren.body.application).toMatchObject({ state: "submitted", renewalOf: id, fields: { ...EX_OFFICIO.fields, country: "LA" } });
    expect((await call({ as: "applicant" }, "POST", `/api/v1/applications/${ren.body.application.id}/renew`, {})).status).toBe(404);
  });
});
