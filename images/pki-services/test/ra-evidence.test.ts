/**
 * Evidence upload (ADR 0063): PDF/JPEG/PNG decided by content, size limit, SHA-256, retention,
 * reads by operators only and audited; the return-for-correction loop; the RA frontend
 * forwarding an operator's certificate (RFC 9440) and dropping one a user forges.
 */
import { createHash } from "node:crypto";
import https from "node:https";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRaFrontend } from "../src/ra/frontend.js";
import { clientCertHeader, pemCertificates } from "../src/ra/auth.js";
import { tempDir } from "./helpers.js";
import { auditRecords, makeRaPki, raCall, raConfig, startRa, type RaPki, type RunningRa, type Speaker } from "./ra-harness.js";

let tmp: ReturnType<typeof tempDir>;
let pki: RaPki;
let ra: RunningRa;
const call = <T = Record<string, any>>(s: Speaker, method: string, path: string, body?: unknown, headers?: Record<string, string>) => raCall<T>(pki, ra.port, s, method, path, body, headers);
const op = (who: keyof RaPki): Speaker => ({ as: "operator", who: pki[who] as never });

const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 2), Buffer.from([0xff, 0xd9])]);
const ORG = { kind: "organisation-signing", fields: { companyName: "Lao Telecom", legalName: "Lao Telecom Co., Ltd.", licenceNumber: "MTC-0001", licenceIssuer: "MTC", contactEmail: "it@laotel.la" } };

let id: string;
let token: string;

beforeAll(async () => {
  tmp = tempDir("ra-evidence");
  pki = makeRaPki(tmp.dir);
  ra = await startRa(raConfig(pki, tmp.dir, "https://127.0.0.1:1", { evidence: { maxBytes: 4096, retentionDays: 2557 } }));
  const r = await call({ as: "applicant" }, "POST", "/api/v1/applications", ORG);
  id = r.body.application.id;
  token = r.body.accessToken;
});
afterAll(async () => {
  await ra?.close();
  tmp?.cleanup();
});

const put = (file: Buffer, ctype: string, q: string, who: Speaker = { as: "applicant", token }) => call(who, "POST", `/api/v1/applications/${id}/evidence?${q}`, file, { "content-type": ctype });

describe("evidence", () => {
  it("a PDF business licence: stored with its SHA-256 and the CP's retention", async () => {
    const r = await put(PDF, "application/pdf", "type=business-licence&filename=licence.pdf");
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ mediaType: "application/pdf", size: PDF.length, sha256: createHash("sha256").update(PDF).digest("hex"), uploadedBy: "applicant", type: "business-licence" });
    const days = (Date.parse(r.body.retainUntil) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2556);
    expect(days).toBeLessThan(2558);
  });

  it("a PNG sent as application/octet-stream is typed by its content", async () => {
    const r = await put(PNG, "application/octet-stream", "type=business-licence&filename=scan.png");
    expect(r.body.mediaType).toBe("image/png");
  });

  it("operators read the bytes back (audited); the applicant lists but cannot read them", async () => {
    const list = await call({ as: "applicant", token }, "GET", `/api/v1/applications/${id}/evidence`);
    expect(list.body.evidence).toHaveLength(2);
    const eid = list.body.evidence[0].id;
    const r = await call(op("officer"), "GET", `/api/v1/applications/${id}/evidence/${eid}`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/pdf");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(Buffer.from(r.text, "latin1").equals(PDF)).toBe(true);
    expect((await call({ as: "applicant", token }, "GET", `/api/v1/applications/${id}/evidence/${eid}`)).status).toBe(401);
    expect((await auditRecords(ra.db)).filter((x) => x.event === "ra.evidence.read").map((x) => x.actor)).toEqual(["C=LA,O=MTC,CN=ສົມໃຈ ພົມມະຈັນ"]);
  });

  const refusals: [string, Buffer, string, string, number, string][] = [
    ["a PNG named .pdf and sent as application/pdf", PNG, "application/pdf", "type=business-licence&filename=licence.pdf", 415, "the file licence.pdf was sent as application/pdf but its content is a PNG image"],
    ["a JPEG named .png", JPEG, "application/octet-stream", "type=business-licence&filename=photo.png", 415, "the file photo.png is named .png but its content is a JPEG image (.jpg or .jpeg)"],
    ["an HTML page named .pdf", Buffer.from("<html><script>alert(1)</script></html>"), "application/pdf", "type=business-licence&filename=x.pdf", 415, "the file x.pdf is not a PDF, JPEG or PNG file (by its content)"],
    ["a file over the size limit", Buffer.concat([PDF, Buffer.alloc(5000)]), "application/pdf", "type=business-licence&filename=big.pdf", 413, "request body exceeds the limit of 4096 bytes"],
    [
      "an evidence type the kind does not take",
      PDF,
      "application/pdf",
      "type=appointment-letter&filename=a.pdf",
      422,
      `evidence type "appointment-letter" is not one kind "organisation-signing" takes (allowed: business-licence)`,
    ],
    ["a path in the filename", PDF, "application/pdf", "type=business-licence&filename=../../etc/passwd.pdf", 400, "must be 1-200 characters without path separators or control characters"],
    ["an unaccepted content type", PDF, "text/html", "type=business-licence&filename=a.pdf", 415, `content type "text/html" is not accepted here`],
  ];
  it.each(refusals)("%s: refused, audited, nothing stored", async (_n, file, ctype, q, status, message) => {
    const before = Number((await ra.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ra_evidence"))[0].n);
    const r = await put(file, ctype, q);
    expect(r.status, r.text).toBe(status);
    expect(r.body.messages.join("\n")).toContain(message);
    expect(Number((await ra.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ra_evidence"))[0].n)).toBe(before);
    expect((await auditRecords(ra.db)).at(-1)).toMatchObject({ event: "ra.request.rejected" });
  });

  it("without the access token: 404, nothing stored", async () => {
    expect((await put(PDF, "application/pdf", "type=business-licence&filename=l.pdf", { as: "applicant" })).status).toBe(404);
  });
});

describe("return for correction", () => {
  it("officer returns with a reason; the applicant corrects (PUT with its token); it is submitted again", async () => {
    await call(op("officer"), "POST", `/api/v1/applications/${id}/start-review`, {});
    const noReason = await call(op("officer"), "POST", `/api/v1/applications/${id}/return`, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.messages).toEqual([`body must have required property 'reason'`]);
    const ret = await call(op("officer"), "POST", `/api/v1/applications/${id}/return`, { reason: "the licence scan is unreadable" });
    expect(ret.body.application).toMatchObject({ state: "returned", reason: "the licence scan is unreadable" });
    const view = await call({ as: "applicant", token }, "GET", `/api/v1/applications/${id}`);
    expect(view.body.reason).toBe("the licence scan is unreadable");
    const fixed = await call({ as: "applicant", token }, "PUT", `/api/v1/applications/${id}`, { fields: { ...ORG.fields, licenceNumber: "MTC-0001-A" } });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.body).toMatchObject({ state: "submitted", reason: null });
    expect(fixed.body.fields.licenceNumber).toBe("MTC-0001-A");
    const again = await call({ as: "applicant", token }, "PUT", `/api/v1/applications/${id}`, { fields: ORG.fields });
    expect(again.status).toBe(409);
  });
});

describe("the RA frontend", () => {
  let fe: FastifyInstance;
  let fePort: number;
  beforeAll(async () => {
    fe = await buildRaFrontend({
      tls: { key: pki.frontend.key, cert: pki.frontend.cert, ca: pki.caPem },
      backendUrl: `https://127.0.0.1:${ra.port}`,
      backendTls: { key: pki.frontend.key, cert: pki.frontend.cert, ca: pki.caPem },
      bulkMaxRows: 10_000,
    });
    await fe.listen({ host: "127.0.0.1", port: 0 });
    fePort = (fe.server.address() as { port: number }).port;
  });
  afterAll(async () => fe?.close());

  const viaFrontend = (who: keyof RaPki | undefined, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const id = who ? (pki[who] as { key: Buffer; cert: Buffer }) : undefined;
      https
        .get({ host: "127.0.0.1", port: fePort, path, ca: pki.caPem, key: id?.key, cert: id?.cert, headers, agent: false }, (res) => {
          let t = "";
          res.on("data", (c) => (t += c));
          res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(t) }));
        })
        .on("error", reject);
    });

  it("forwards the operator's own client certificate: the backend sees the officer", async () => {
    const r = await viaFrontend("officer", "/api/v1/applications?limit=1");
    expect(r.status).toBe(200);
    expect(r.body.applications).toHaveLength(1);
  });

  it("an applicant without a certificate is the applicant; a forged Client-Cert header is dropped", async () => {
    const forged = clientCertHeader(pemCertificates(pki.manager.cert.toString())[0]);
    const r = await viaFrontend(undefined, "/api/v1/applications", { "client-cert": forged });
    expect(r.status).toBe(401);
    expect(r.body.messages).toEqual(["listing applications needs an operator client certificate"]);
    expect((await viaFrontend(undefined, "/api/v1/kinds")).body["tls-server"].profile).toBe("tls-server");
  });
});
