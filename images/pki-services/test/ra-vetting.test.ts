/**
 * The RA backend's JSON API, vetting part (ADR 0060): applications, the state machine, four-eyes
 * enforced by the service, roles from operator-client certificates, every transition and every
 * refusal in the hash-chained audit log with the human's identity, the OpenAPI document.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../src/audit/log.js";
import { auditRecords, makeRaPki, raCall, raConfig, startRa, type RaPki, type RunningRa, type Speaker } from "./ra-harness.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let pki: RaPki;
let ra: RunningRa;
const call = <T = Record<string, any>>(s: Speaker, method: string, path: string, body?: unknown) => raCall<T>(pki, ra.port, s, method, path, body);
const applicant: Speaker = { as: "applicant" };
const op = (who: keyof RaPki): Speaker => ({ as: "operator", who: pki[who] as never });

const OFFICER_ID = "C=LA,O=MTC,CN=ສົມໃຈ ພົມມະຈັນ";
const APPROVER_ID = "C=LA,O=MTC,CN=Khamla Vongsa";
const EX_OFFICIO = {
  kind: "ex-officio-signing",
  fields: { holderName: "ສົມສັກ ວົງສາ", position: "ຫົວໜ້າກົມ", ministry: "ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ", appointmentReference: "123/MTC" },
};

beforeAll(async () => {
  tmp = tempDir("ra-vetting");
  pki = makeRaPki(tmp.dir);
  ra = await startRa(raConfig(pki, tmp.dir, "https://127.0.0.1:1"));
});
afterAll(async () => {
  await ra?.close();
  tmp?.cleanup();
});

const count = async () => Number((await ra.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ra_applications"))[0].n);

describe("an application through vetting", () => {
  let id: string;
  let token: string;

  it("an applicant submits: 201, its id and a one-time access token; fixed fields are set", async () => {
    const r = await call(applicant, "POST", "/api/v1/applications", EX_OFFICIO);
    expect(r.status, r.text).toBe(201);
    id = r.body.application.id;
    token = r.body.accessToken;
    expect(r.body.application).toMatchObject({ state: "submitted", kind: "ex-officio-signing", submittedBy: "applicant" });
    expect(r.body.application.fields.country).toBe("LA");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("the applicant reads it with its token only; listing needs an operator", async () => {
    expect((await call({ as: "applicant", token }, "GET", `/api/v1/applications/${id}`)).body.state).toBe("submitted");
    const other = await call({ as: "applicant", token: "x".repeat(43) }, "GET", `/api/v1/applications/${id}`);
    expect(other.status).toBe(404);
    expect((await call(applicant, "GET", "/api/v1/applications")).status).toBe(401);
    const list = await call(op("officer"), "GET", "/api/v1/applications?state=submitted");
    expect(list.body.applications.map((a: { id: string }) => a.id)).toContain(id);
  });

  it("roles come from the certificate: an approver cannot start a review", async () => {
    const r = await call(op("approver"), "POST", `/api/v1/applications/${id}/start-review`, {});
    expect(r.status).toBe(403);
    expect(r.body.messages[0]).toBe(`${APPROVER_ID} may not start-review an application: it needs the role vetting-officer (its certificate gives: vetting-approver)`);
  });

  it("officer: start-review, accept; a repeated accept is a transition the state does not allow", async () => {
    expect((await call(op("officer"), "POST", `/api/v1/applications/${id}/start-review`, {})).body.application.state).toBe("in_review");
    const acc = await call(op("officer"), "POST", `/api/v1/applications/${id}/accept`, {});
    expect(acc.body.application).toMatchObject({ state: "accepted", officer: OFFICER_ID });
    const again = await call(op("officer"), "POST", `/api/v1/applications/${id}/accept`, {});
    expect(again.status).toBe(409);
    expect(again.body.messages).toEqual([`cannot accept application ${id}: it is accepted (allowed from: in_review)`]);
  });

  it("four-eyes: the officer, with a second certificate holding the approver role, cannot approve", async () => {
    const r = await call(op("officerAsApprover"), "POST", `/api/v1/applications/${id}/approve`, {});
    expect(r.status).toBe(403);
    expect(r.body.error).toBe("four_eyes");
    expect(r.body.messages[0]).toContain(`${OFFICER_ID} accepted application ${id} as its vetting officer and may not also approve it`);
    expect((await ra.service.get(id))!.state).toBe("accepted");
  });

  it("another approver approves: without a CSR it gets a one-time enrollment code", async () => {
    const r = await call(op("approver"), "POST", `/api/v1/applications/${id}/approve`, {});
    expect(r.status, r.text).toBe(200);
    expect(r.body.application).toMatchObject({ state: "approved", officer: OFFICER_ID, approver: APPROVER_ID });
    expect(r.body.enrollmentCode).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){4}$/);
  });

  it("the database refuses officer = approver even if the service did not (CHECK constraint)", async () => {
    await expect(ra.db.query(`UPDATE ra_applications SET approver = officer WHERE id = $1`, [id])).rejects.toThrow(/check constraint/);
  });

  it("every transition is audited with the human's identity, the refusals too, and the chain verifies", async () => {
    const recs = (await auditRecords(ra.db)).filter((r) => r.details.application === id);
    expect(recs.map((r) => [r.event, r.actor])).toEqual([
      ["ra.submit", "applicant"],
      ["ra.request.rejected", "applicant"], // read with a wrong access token
      ["ra.start-review", OFFICER_ID],
      ["ra.accept", OFFICER_ID],
      ["ra.request.rejected", OFFICER_ID],
      ["ra.request.rejected", OFFICER_ID],
      ["ra.approve", APPROVER_ID],
    ]);
    const fourEyes = recs.find((r) => r.details.code === "four_eyes")!;
    expect(fourEyes.details).toMatchObject({ what: "approve", status: 403, roles: ["vetting-approver"] });
    const denied = (await auditRecords(ra.db)).find((r) => r.event === "ra.access.denied" && r.actor === APPROVER_ID);
    expect(denied?.details.path).toBe(`/api/v1/applications/${id}/start-review`);
    expect((await verifyAudit(ra.db)).ok).toBe(true);
  });

  it("the vetting manager's report lists the approval with both people; others may not read it", async () => {
    const q = `from=${encodeURIComponent(new Date(Date.now() - 3600e3).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 3600e3).toISOString())}`;
    const r = await call(op("manager"), "GET", `/api/v1/reports/approvals?${q}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.approvals).toEqual([expect.objectContaining({ id, officer: OFFICER_ID, approver: APPROVER_ID })]);
    expect(r.body.violations).toEqual([]);
    expect((await call(op("approver"), "GET", `/api/v1/reports/approvals?${q}`)).status).toBe(403);
  });
});

describe("bad input: a 4xx with a precise message, an audit record, nothing stored", () => {
  const cases: [string, Speaker | (() => Speaker), string, string, unknown, number, string][] = [
    [
      "unknown kind",
      applicant,
      "POST",
      "/api/v1/applications",
      { kind: "diploma", fields: {} },
      422,
      `kind "diploma" does not exist (known: ex-officio-signing, organisation-signing, tls-server, smime, operator-client)`,
    ],
    [
      "XSS payload in a name",
      applicant,
      "POST",
      "/api/v1/applications",
      { ...EX_OFFICIO, fields: { ...EX_OFFICIO.fields, holderName: "<script>alert(1)</script>" } },
      422,
      "fields.holderName: contains a character that is not allowed (U+003C at position 1): control characters and < > are refused",
    ],
    [
      "control character in a name",
      applicant,
      "POST",
      "/api/v1/applications",
      { ...EX_OFFICIO, fields: { ...EX_OFFICIO.fields, position: "Head\u0000of" } },
      422,
      "fields.position: contains a character that is not allowed (U+0000 at position 5): control characters and < > are refused",
    ],
    ["missing required field", applicant, "POST", "/api/v1/applications", { kind: "ex-officio-signing", fields: { holderName: "A" } }, 422, `fields.position: is required for kind "ex-officio-signing"`],
    [
      "unknown field",
      applicant,
      "POST",
      "/api/v1/applications",
      { ...EX_OFFICIO, fields: { ...EX_OFFICIO.fields, shoeSize: "42" } },
      422,
      `fields.shoeSize: unknown field for kind "ex-officio-signing" (known: holderName, position, ministry, department, email, country, appointmentReference)`,
    ],
    [
      "a fixed field changed",
      applicant,
      "POST",
      "/api/v1/applications",
      { ...EX_OFFICIO, fields: { ...EX_OFFICIO.fields, country: "TH" } },
      422,
      `fields.country: is fixed to "LA" for kind "ex-officio-signing" (got "TH")`,
    ],
    ["extra body member", applicant, "POST", "/api/v1/applications", { ...EX_OFFICIO, subject: "CN=evil" }, 400, `body: unknown field "subject"`],
    ["malformed CSR", applicant, "POST", "/api/v1/applications", { ...EX_OFFICIO, csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" }, 400, "csr: "],
    [
      "forwarded certificate from another CA",
      () => op("rogue"),
      "GET",
      "/api/v1/applications",
      undefined,
      401,
      "the forwarded client certificate (C=LA, O=MTC, OU=vetting-approver, CN=Khamla Vongsa) is not issued by the operator CA",
    ],
    [
      "certificate without the operator-client policy",
      () => op("noPolicy"),
      "GET",
      "/api/v1/applications",
      undefined,
      403,
      "the client certificate is not an operator-client certificate (certificatePolicies lacks 2.16.418.1.1.3.1)",
    ],
  ];
  it.each(cases)("%s", async (_name, who, method, path, body, status, message) => {
    const before = await count();
    const seq = Number((await ra.db.query<{ seq: number }>("SELECT seq FROM audit_head"))[0].seq);
    const r = await call(typeof who === "function" ? who() : who, method, path, body);
    expect(r.status, r.text).toBe(status);
    expect(r.body.messages.join("\n")).toContain(message);
    expect(await count()).toBe(before);
    const recs = await ra.db.query<{ event: string; details: Record<string, any> }>("SELECT event, details FROM audit_log WHERE seq > $1", [seq]);
    expect(recs.map((x) => x.event)).toEqual([status === 401 || status === 403 ? "ra.access.denied" : "ra.request.rejected"]);
    expect(recs[0].details.problems.join("\n")).toContain(message.replace("\u0000", "\\u0000"));
  });

  it("a caller without a client certificate is refused at the TLS handshake", async () => {
    await expect(call({ as: "none" }, "GET", "/api/v1/kinds")).rejects.toThrow(/certificate|socket hang up|ECONNRESET|alert/i);
  });
});

describe("the API is documented", () => {
  it("serves its OpenAPI document, and docs/ra-openapi.json is that document", async () => {
    const r = await call(applicant, "GET", "/openapi.json");
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(["/api/v1/applications", "/api/v1/applications/{id}/approve", "/api/v1/enroll"]));
    const file = join(import.meta.dirname, "../../../docs/ra-openapi.json");
    const text = `${JSON.stringify(r.body, null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI || !existsSync(file)) writeFileSync(file, text);
    expect(readFileSync(file, "utf8"), "docs/ra-openapi.json is stale: rerun with UPDATE_OPENAPI=1").toBe(text);
  });
});
