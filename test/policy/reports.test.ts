/** Reports: SARIF 2.1.0 validated against the OASIS schema, JUnit, Markdown, JSON, matrix. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG, type PolicyResult } from "../../policy/index.js";
import { jsonReport } from "../../policy/report/json.js";
import { junitReport } from "../../policy/report/junit.js";
import { bySection, markdownReport, traceabilityMatrix } from "../../policy/report/markdown.js";
import { sarifLog } from "../../policy/report/sarif.js";
import { terminalReport } from "../../policy/report/terminal.js";
import { build, check, cleanup } from "./fixtures.js";

/** The SARIF 2.1.0 schema (draft-04) made loadable by Ajv 8 (draft-07 semantics are the same for it). */
function sarifValidator() {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, "../../policy/schemas/sarif-2.1.0-rtm.5.json"), "utf8"));
  delete schema.$schema;
  schema.$id = schema.id;
  delete schema.id;
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }); // the schema's language pattern is not valid with the u flag;
  ajv.addFormat("uri", (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s));
  ajv.addFormat("uri-reference", (s: string) => !/\s/.test(s));
  ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)) && /T/.test(s));
  return ajv.compile(schema);
}

let passing: PolicyResult;
let failing: PolicyResult;
let pilot: PolicyResult;
beforeAll(() => {
  passing = check(build("production"), { shippedExceptions: true });
  const b = build("production", (d) => {
    d.auditLog.retentionDays = 700;
  });
  Object.assign(b.model.components.find((c) => c.id === "lanic/repository")!, { replicas: 1, pdb: false, spread: false });
  failing = check(b, {
    shippedExceptions: true,
    exceptions: [
      {
        control: "LCA-WKL-03",
        finding: "LCA-WKL-03:component:lanic/repository",
        reason: "repository scaled down during the storage migration",
        approvedBy: "security-officer",
        ticket: "LANIC-CA-7",
        expires: "2027-01-31",
      },
    ],
  });
  pilot = check(build("pilot"), { shippedExceptions: true });
});
afterAll(cleanup);

describe("SARIF 2.1.0", () => {
  const validate = sarifValidator();
  it("a passing and a failing report validate against the schema", () => {
    for (const log of [sarifLog([passing]), sarifLog([failing]), sarifLog([passing, failing, pilot])]) {
      const ok = validate(log);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
  });
  it("the schema validator refuses a broken log (it can fail)", () => {
    const log = sarifLog([failing]) as any;
    log.runs[0].results[0].level = "fatal";
    expect(validate(log)).toBe(false);
  });
  it("rules are the controls; results carry the finding id, level and suppressions for exceptions", () => {
    const run = (sarifLog([failing]) as any).runs[0];
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(CATALOG.map((c) => c.id));
    const open = run.results.filter((r: any) => !r.suppressions);
    const excepted = run.results.filter((r: any) => r.suppressions);
    expect(open.map((r: any) => [r.ruleId, r.level, r.partialFingerprints.findingId])).toEqual([["LCA-AUD-02", "error", "LCA-AUD-02:retention"]]);
    expect(excepted.map((r: any) => [r.ruleId, r.suppressions[0].status])).toEqual([["LCA-WKL-03", "accepted"]]);
  });
});

describe("JUnit XML", () => {
  it("one test case per control × environment; failures for open errors, skipped when not applicable", () => {
    const xml = junitReport([failing, pilot]);
    expect(xml.match(/<testcase /g)!.length).toBe(CATALOG.length * 2);
    expect(xml).toContain(`<testsuites name="lanic-ca policy" tests="${CATALOG.length * 2}" failures="1">`);
    expect(xml).toMatch(/name="LCA-AUD-02 Audit log retention \(7 years in production\)"[^>]*>\n\s*<failure message="1 finding\(s\)" type="LCA-AUD-02">LCA-AUD-02:retention/);
    expect((xml.match(/<skipped /g) ?? []).length).toBe(CATALOG.filter((c) => (c.rootOfTrust && !c.rootOfTrust.includes("external")) || c.requires === "tsa").length); // the pilot's offline-root and TSA controls
  });
});

describe("Markdown, JSON, terminal, traceability", () => {
  it("markdown lists findings with fixes, exceptions, and every control", () => {
    const md = markdownReport(failing);
    expect(md).toContain("❌ **Refused**");
    expect(md).toContain("| **LCA-AUD-02** Audit log retention (7 years in production) | error | `production` | retention 700 days (tier production) | ≥ 2557 days | set auditLog.retentionDays ≥ 2557 |");
    expect(md).toContain("| LCA-WKL-03 | `LCA-WKL-03:component:lanic/repository` | repository scaled down during the storage migration | security-officer | LANIC-CA-7 | 2027-01-31 | 1 |");
    for (const c of CATALOG) expect(md).toContain(`| ${c.id} |`);
  });
  it("JSON is stable and complete", () => {
    const j = JSON.parse(jsonReport(failing));
    expect(j.counts).toMatchObject({ errors: 1, excepted: 1 });
    expect(j.controls.find((c: any) => c.id === "LCA-AUD-02").findings[0]).toMatchObject({ id: "LCA-AUD-02:retention", controlId: "LCA-AUD-02", found: "retention 700 days (tier production)" });
    expect(jsonReport(failing)).toBe(jsonReport(failing));
  });
  it("terminal: counts, then each finding with its fix, then exceptions", () => {
    const t = terminalReport([failing], false);
    expect(t.split("\n")[0]).toBe(`✖ production (production, offline root): ${CATALOG.length - 2} passed, 1 failed, 1 excepted, 0 not applicable — 1 error(s), 0 warning(s)`);
    expect(t).toContain("    fix      set auditLog.retentionDays ≥ 2557");
    expect(t).toContain("  exception LCA-WKL-03 LCA-WKL-03:component:lanic/repository — repository scaled down");
  });
  it("the traceability matrix maps RFC 3647 sections to controls, status per environment and evidence", () => {
    const m = traceabilityMatrix([passing, pilot]);
    expect(m).toContain("| RFC 3647 | Control | References | production | pilot | Evidence |");
    expect(m).toMatch(/\| 6\.1\.5 \| LCA-KEY-02 Key algorithms and sizes \| BR 6\.1\.5, MRSP 5\.1 \| ✅ pass \| ✅ pass \| production: `production\/offline-root`, `production\/hsm`/);
    expect(m).toMatch(/\| 6\.2\.7 \| LCA-KEY-01 .* \| ✅ pass \| ➖ n\/a \|/);
    expect(m).toContain("stacks/production-lanic/cdk.tf.json");
  });
});

describe("the traceability matrix's section order", () => {
  it("sorts RFC 3647 sections as numbers, part by part, a shorter number first", () => {
    const shuffled = ["6.2.7", "4.9.10", "6.7", "1.5.4", "4.9.7", "5.1.1", "6.2.1", "4.9", "6.10.1"];
    expect([...shuffled].sort(bySection)).toEqual(["1.5.4", "4.9", "4.9.7", "4.9.10", "5.1.1", "6.2.1", "6.2.7", "6.7", "6.10.1"]);
  });

  it("orders the catalog's sections as a numeric collator does", () => {
    const sections = [...new Set(CATALOG.map((c) => c.rfc3647))];
    expect([...sections].sort(bySection)).toEqual([...sections].sort(new Intl.Collator("en", { numeric: true }).compare));
  });
});
