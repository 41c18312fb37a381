/**
 * Bulk applications from CSV (ADR 0062): BOM, Lao script, quoted fields and newlines, dry run,
 * per-row/column problems, idempotent re-upload, limits, mis-encoded and malformed files, batch
 * vetting with four-eyes, enrollment codes exported with formula cells neutralised.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";
import { auditRecords, makeRaPki, raCall, raConfig, startRa, type RaPki, type RunningRa, type Speaker } from "./ra-harness.js";

let tmp: ReturnType<typeof tempDir>;
let pki: RaPki;
let ra: RunningRa;
const op = (who: keyof RaPki): Speaker => ({ as: "operator", who: pki[who] as never });
const upload = (csv: string | Buffer, q = "kind=organisation-signing&filename=mtc.csv", who: Speaker = op("raOperator")) => raCall(pki, ra.port, who, "POST", `/api/v1/batches?${q}`, csv, { "content-type": "text/csv" });
const count = async (t = "ra_applications") => Number((await ra.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0].n);

const HEADER = "companyName,legalName,licenceNumber,licenceIssuer,province,contactEmail";
const GOOD = [
  `ບໍລິສັດ ລາວໂທລະຄົມ,"Lao Telecom Co., Ltd.",MTC-0001,ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ,ນະຄອນຫຼວງວຽງຈັນ,it@laotel.la`,
  `Unitel,"Star Telecom ""Unitel"" Co., Ltd.",MTC-0002,MTC,,noc@unitel.la`,
  `"=HYPERLINK(""http://evil.example"")",Evil Co.,MTC-0003,MTC,,a@evil.la`,
];
const BAD = [
  `"Two\nLines",Legal,MTC-0004,MTC,,x@y.la`, // row 5: a newline inside a quoted name
  `<b>Bold</b>,Legal,MTC 0005!,MTC,,x@y.la`, // row 6: two bad cells
  `Short,Row`, // row 7: 2 cells
];
const FILE = `\ufeff${HEADER}\r\n${GOOD.join("\r\n")}\r\n${BAD.join("\r\n")}\r\nLast Co.,Last Co. Ltd.,MTC-0008,MTC,,last@co.la\r\n`;

beforeAll(async () => {
  tmp = tempDir("ra-bulk");
  pki = makeRaPki(tmp.dir);
  ra = await startRa(raConfig(pki, tmp.dir, "https://127.0.0.1:1", { bulkUploadMaxRows: 50, bulkUploadMaxBytes: 64 * 1024 }));
});
afterAll(async () => {
  await ra?.close();
  tmp?.cleanup();
});

const EXPECTED_PROBLEMS = [
  { row: 5, column: "companyName", columnLetter: "A", message: "contains a character that is not allowed (U+000A at position 4): control characters and < > are refused" },
  { row: 6, column: "companyName", columnLetter: "A", message: "contains a character that is not allowed (U+003C at position 1): control characters and < > are refused" },
  { row: 6, column: "licenceNumber", columnLetter: "C", message: `"MTC 0005!" does not match the required form /[A-Za-z0-9][A-Za-z0-9./-]{0,63}/` },
  { row: 7, message: "has 2 cells, the header has 6 (line 8)" },
];

describe("bulk CSV", () => {
  let batchId: string;

  it("a dry run reports every problem by row and column and stores nothing", async () => {
    const r = await upload(FILE, "kind=organisation-signing&filename=mtc.csv&dryRun=true");
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ dryRun: true, batchId: null, rows: 7, accepted: 4, rejected: 3 });
    expect(r.body.problems).toEqual(EXPECTED_PROBLEMS);
    expect(await count()).toBe(0);
    expect(await count("ra_batches")).toBe(0);
  });

  it("a real upload keeps every good row (Lao script, quoted commas and quotes intact) and reports the bad ones", async () => {
    const r = await upload(FILE);
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ dryRun: false, duplicate: false, rows: 7, accepted: 4, rejected: 3 });
    expect(r.body.problems).toEqual(EXPECTED_PROBLEMS);
    batchId = r.body.batchId;
    const apps = await ra.service.list({ batch: batchId });
    expect(apps.map((a) => [a.batchRow, a.fields.companyName, a.fields.legalName])).toEqual([
      [2, "ບໍລິສັດ ລາວໂທລະຄົມ", "Lao Telecom Co., Ltd."],
      [3, "Unitel", `Star Telecom "Unitel" Co., Ltd.`],
      [4, `=HYPERLINK("http://evil.example")`, "Evil Co."],
      [8, "Last Co.", "Last Co. Ltd."],
    ]);
    expect(apps.every((a) => a.state === "submitted" && a.fields.country === "LA" && a.submittedBy === "C=LA,O=MTC,CN=Noy Keomany")).toBe(true);
  });

  it("the same file again creates nothing twice", async () => {
    const before = await count();
    const r = await upload(FILE);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ duplicate: true, batchId, accepted: 4 });
    expect(await count()).toBe(before);
    expect(await count("ra_batches")).toBe(1);
  });

  const refusals: [string, string | Buffer, number, string][] = [
    [
      "a wrong column",
      `companyName,legalName,licenceNo,licenceIssuer,contactEmail\r\nA,B,C,D,e@f.la\r\n`,
      422,
      `row 1, column C "licenceNo": unknown column for kind "organisation-signing" (allowed: companyName, legalName, licenceNumber, licenceIssuer, province, city, contactEmail, country)`,
    ],
    ["a missing required column", `companyName,legalName,licenceIssuer,contactEmail\r\nA,B,D,e@f.la\r\n`, 422, `row 1: the required column "licenceNumber" is missing`],
    [
      "a file that is not UTF-8 (Windows-1252)",
      Buffer.concat([Buffer.from(`${HEADER}\r\nSoci`), Buffer.from([0xe9]), Buffer.from(`t\u00e9,L,MTC-1,MTC,,a@b.la\r\n`, "latin1")]),
      400,
      `the file is not UTF-8: invalid byte sequence at byte offset ${HEADER.length + 2 + 4} (save it as "CSV UTF-8")`,
    ],
    ["an unclosed quote", `${HEADER}\r\n"Open,B,C,D,,e@f.la\r\n`, 400, "Quote Not Closed"],
    ["a quote inside an unquoted field", `${HEADER}\r\nA,B,C,D,,e@f.la\r\n=HYPERLINK("x"),B,C,D,,e@f.la\r\n`, 400, "row 3 (line 3): Invalid Opening Quote"],
    [
      "more rows than ra.bulkUploadMaxRows",
      `${HEADER}\r\n${Array.from({ length: 51 }, (_, i) => `C${i},L${i},MTC-${i},MTC,,a${i}@b.la`).join("\r\n")}\r\n`,
      413,
      "the file has more than 50 rows (ra.bulkUploadMaxRows); split it",
    ],
    ["a file over the size limit", `${HEADER}\r\n${"x".repeat(70 * 1024)}\r\n`, 413, "the file exceeds the limit of 65536 bytes"],
    ["an empty file", "", 422, "the file has no header row"],
  ];
  it.each(refusals)("%s is refused with a precise message, audited, nothing stored", async (_n, csv, status, message) => {
    const before = [await count(), await count("ra_batches")];
    const r = await upload(csv);
    expect(r.status, r.text).toBe(status);
    expect(r.body.messages.join("\n")).toContain(message);
    expect([await count(), await count("ra_batches")]).toEqual(before);
    const last = (await auditRecords(ra.db)).at(-1)!;
    expect(last).toMatchObject({ event: "ra.request.rejected", details: { what: "batch upload", status } });
  });

  it("only an ra-operator uploads", async () => {
    expect((await upload(FILE, undefined, op("officer"))).status).toBe(403);
    expect((await upload(FILE, undefined, { as: "applicant" })).status).toBe(401);
  });

  it("batch vetting with four-eyes; approval exports one code per row with formula cells neutralised", async () => {
    const act = (who: keyof RaPki, action: string, q = "") => raCall(pki, ra.port, op(who), "POST", `/api/v1/batches/${batchId}/${action}${q}`, {});
    expect((await act("officer", "start-review")).body).toMatchObject({ changed: 4 });
    expect((await act("officer", "accept")).body).toMatchObject({ changed: 4 });
    const same = await act("officerAsApprover", "approve");
    expect(same.status).toBe(403);
    expect(same.body.error).toBe("four_eyes");
    const r = await act("approver", "approve", "?format=csv");
    expect(r.status, r.text).toBe(200);
    expect(r.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const lines = r.text
      .replace(/^\ufeff/, "")
      .trimEnd()
      .split("\r\n");
    expect(lines[0]).toBe("row,application,companyName,legalName,licenceNumber,licenceIssuer,province,city,contactEmail,country,enrollmentCode,expiresAt");
    expect(lines).toHaveLength(5);
    expect(lines[3]).toMatch(/^4,[0-9a-f-]{36},"'=HYPERLINK\(""http:\/\/evil\.example""\)",Evil Co\.,MTC-0003,MTC,,,a@evil\.la,LA,[A-Z2-9]{4}(-[A-Z2-9]{4}){4},\d{4}-/);
    const apps = await ra.service.list({ batch: batchId });
    expect(apps.every((a) => a.state === "approved" && a.approver === "C=LA,O=MTC,CN=Khamla Vongsa")).toBe(true);
    const rec = (await auditRecords(ra.db)).find((x) => x.event === "ra.batch.approve")!;
    expect(rec.actor).toBe("C=LA,O=MTC,CN=Khamla Vongsa");
    expect(rec.details.applications.sort()).toEqual(apps.map((a) => a.id).sort());
  });
});
