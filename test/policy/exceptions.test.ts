/** LCA-EXC-01: exceptions must be current, approved by a trusted role, ticketed and used. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOG, parseExceptions, ExceptionsError } from "../../policy/index.js";
import { exceptionRuleProblems } from "../../policy/catalog.js";
import { TICKET, type PolicyException } from "../../policy/exceptions.js";
import { build, check, cleanup, findingsOf, statusOf, type Built } from "./fixtures.js";

let violating: Built;
let shippedProduction: Built;
const copy = () => structuredClone(shippedProduction);
beforeAll(() => {
  shippedProduction = build("production");
  // One repository (primary site) down to one replica: one LCA-WKL-03 finding.
  violating = build("production");
  Object.assign(violating.model.components.find((c) => c.id === "lanic/repository")!, { replicas: 1, pdb: false, spread: false });
});
afterAll(cleanup);

const base: PolicyException = {
  control: "LCA-WKL-03",
  finding: "LCA-WKL-03:component:lanic/repository",
  reason: "repository scaled down during the storage migration",
  approvedBy: "security-officer",
  ticket: "LANIC-CA-7",
  expires: "2027-01-31",
};

describe("exceptions", () => {
  it("passing: a current, matching exception moves the finding to 'excepted' and reports it", () => {
    const r = check(violating, { exceptions: [base] });
    expect(findingsOf(r, "LCA-WKL-03")).toEqual([]);
    expect(statusOf(r, "LCA-WKL-03")).toBe("excepted");
    expect(r.results.find((x) => x.control.id === "LCA-WKL-03")!.excepted.map((f) => f.id)).toEqual(["LCA-WKL-03:component:lanic/repository"]);
    expect(r.exceptions[0].covers).toEqual(["LCA-WKL-03:component:lanic/repository"]);
    expect(statusOf(r, "LCA-EXC-01")).toBe("pass");
  });
  it("names one finding: a construct path or a '*' pattern is refused when the file is read", () => {
    const yaml = (finding: string) => `exceptions:\n  - control: LCA-NET-03\n    finding: "${finding}"\n    reason: "${base.reason}"\n    approvedBy: security-officer\n    ticket: LANIC-CA-42\n    expires: 2027-01-31\n`;
    expect(() => parseExceptions(yaml("LCA-NET-03:edge:*/ra->*/lanic-ca-db:5432"), "p.yaml")).toThrow("exceptions.0.finding: one finding id, no wildcard: write one exception per finding");
    expect(() => parseExceptions(yaml("production/production-lanic/repository/repository"), "p.yaml")).toThrow("exceptions.0.finding: a finding id of the exception's control: `<control>:<key>`");
  });
  it("violating: a MUST in production cannot be excepted (a FIPS level 2 HSM approved for 90 days)", () => {
    const b = build("production", (d) => {
      d.hsm.certification = { scheme: "FIPS 140-2", level: 2, certificate: "#1234" };
    });
    const r = check(b, { exceptions: [{ ...base, control: "LCA-HSM-01", finding: "LCA-HSM-01:hsm:online", expires: "2027-02-20" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => [f.id, f.found])).toEqual([
      ["LCA-EXC-01:0:tier", "exception LCA-HSM-01 LCA-HSM-01:hsm:online: LCA-HSM-01 cannot be excepted in tier production (a MUST of BR 6.2.7, BR 6.2.11)"],
    ]);
    expect(statusOf(r, "LCA-HSM-01")).toBe("fail");
    expect(r.exceptions[0].covers).toEqual([]);
  });
  it("violating: a control declared never exceptable", () => {
    const b = copy();
    b.stacks["production-lanic"].resource!.kubernetes_secret_v1 = { pin: { "//": { metadata: { path: "production/production-lanic/pin" } }, metadata: { name: "hsm-pin" }, data: { pin: "1234" } } };
    const r = check(b, { exceptions: [{ ...base, control: "LCA-SEC-01", finding: "LCA-SEC-01:secret:production-lanic:pin" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => f.id)).toEqual(["LCA-EXC-01:0:not-exceptable"]);
    expect(statusOf(r, "LCA-SEC-01")).toBe("fail");
  });
  it("violating: an approver whose role may not approve that control", () => {
    const r = check(violating, { exceptions: [{ ...base, approvedBy: "ra-operator" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => [f.id, f.found, f.required])).toEqual([
      ["LCA-EXC-01:0:approver", "exception LCA-WKL-03 LCA-WKL-03:component:lanic/repository approved by ra-operator, who may not approve exceptions to LCA-WKL-03", "approved by security-officer or ca-chief-officer"],
    ]);
    expect(statusOf(r, "LCA-WKL-03")).toBe("fail");
  });
  it("violating: the approver is the one who benefits (its group also holds the control's owner role)", () => {
    const b = build("production", (d) => {
      d.roles["security-officer"] = ["lanic-ca-production:platform-team"];
      d.roles["infrastructure-engineer"] = ["lanic-ca-production:platform-team"];
    });
    Object.assign(b.model.components.find((c) => c.id === "lanic/repository")!, { replicas: 1, pdb: false, spread: false });
    const r = check(b, { exceptions: [base] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => [f.id, f.found])).toEqual([
      [
        "LCA-EXC-01:0:beneficiary",
        "exception LCA-WKL-03 LCA-WKL-03:component:lanic/repository approved by security-officer (group lanic-ca-production:platform-team also holds infrastructure-engineer), the role whose work LCA-WKL-03 checks",
      ],
    ]);
    expect(statusOf(r, "LCA-WKL-03")).toBe("fail");
  });
  it("every control declares its exceptions; the catalog refuses a MUST exceptable in production or an owner approving itself", () => {
    for (const c of CATALOG) {
      expect(c.exceptions === "never" || c.exceptions.tiers.length > 0, c.id).toBe(true);
      expect(exceptionRuleProblems(c), c.id).toEqual([]);
      if (c.basis === "must" && c.exceptions !== "never") expect(c.exceptions.tiers, c.id).not.toContain("production");
    }
    const hsm = CATALOG.find((c) => c.id === "LCA-HSM-01")!;
    expect(exceptionRuleProblems({ ...hsm, exceptions: { tiers: ["staging", "production"], approvers: ["security-officer"] } })).toEqual(["LCA-HSM-01 enforces a MUST but is declared exceptable in production"]);
    expect(exceptionRuleProblems({ ...hsm, exceptions: { tiers: ["staging"], approvers: ["ca-system-administrator"] } })).toEqual([
      "LCA-HSM-01: its owner ca-system-administrator would approve exceptions to its own work",
    ]);
  });
  it("violating: an expired exception is an error and does not cover its finding", () => {
    const r = check(violating, { exceptions: [{ ...base, expires: "2026-11-21" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => [f.id, f.found])).toEqual([["LCA-EXC-01:0:expired", "exception LCA-WKL-03 LCA-WKL-03:component:lanic/repository expired on 2026-11-21 (today 2026-11-22)"]]);
    expect(statusOf(r, "LCA-WKL-03")).toBe("fail");
  });
  it("violating: an exception more than 180 days ahead", () => {
    const r = check(violating, { exceptions: [{ ...base, expires: "2027-05-22" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => f.id)).toEqual(["LCA-EXC-01:0:too-far"]);
    expect(statusOf(r, "LCA-WKL-03")).toBe("fail");
  });
  it("violating: an exception that matches nothing", () => {
    const r = check(violating, { exceptions: [base, { ...base, finding: "LCA-WKL-03:component:lanic/ra" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => [f.id, f.found])).toEqual([["LCA-EXC-01:1:unmatched", "exception LCA-WKL-03 LCA-WKL-03:component:lanic/ra matches no finding"]]);
  });
  it("violating: an unknown control", () => {
    const r = check(violating, { exceptions: [base, { ...base, control: "LCA-XYZ-99" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => f.id)).toEqual(["LCA-EXC-01:1:unknown-control"]);
  });
  it.each([
    [{ reason: "too short" }, "reason: at least 20 characters"],
    [{ approvedBy: "intern" }, "approvedBy:"],
    [{ ticket: "soon" }, "ticket: a ticket reference"],
    [{ expires: "next year" }, "expires: a date YYYY-MM-DD"],
    [{ expires: undefined }, "expires: required: the date the exception ends, YYYY-MM-DD, at most 180 days ahead"],
    [{ ticket: undefined }, "ticket: required: a ticket reference"],
    [{ extra: 1 }, "Unrecognized key"],
  ])("the file is parsed strictly: %o", (change, message) => {
    const e = { ...base, ...change };
    const yaml = `exceptions:\n  - ${Object.entries(e)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join("\n    ")}\n`;
    expect(() => parseExceptions(yaml, "policy/exceptions/production.yaml")).toThrow(ExceptionsError);
    expect(() => parseExceptions(yaml, "policy/exceptions/production.yaml")).toThrow(message);
  });
  it("an unquoted '#4' ticket (a YAML comment) says so", () => {
    const yaml = `exceptions:\n  - control: LCA-WKL-03\n    finding: LCA-WKL-03:x\n    reason: "${base.reason}"\n    approvedBy: security-officer\n    ticket: #4\n    expires: 2027-01-31\n`;
    expect(() => parseExceptions(yaml, "f.yaml")).toThrow('f.yaml: exceptions.0.ticket: empty: an unquoted #42 is a YAML comment; write ticket: "#42"');
  });
  it('the example in docs/policy.md parses (ticket formats LANIC-CA-42 and "#4")', () => {
    const doc = readFileSync(join(import.meta.dirname, "../../docs/policy.md"), "utf8");
    const example = /## Exceptions\n[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1];
    const parsed = parseExceptions(example, "docs/policy.md");
    expect(parsed.length).toBeGreaterThan(0);
    expect(parsed.map((e) => e.ticket)).toEqual(expect.arrayContaining(["LANIC-CA-42", "#4"]));
    for (const t of ["LANIC-CA-42", "SEC-7", "#4"]) expect(TICKET.test(t), t).toBe(true);
  });
  it("YAML dates are accepted", () => {
    const yaml = `exceptions:\n  - control: LCA-WKL-03\n    finding: LCA-WKL-03:x\n    reason: "${base.reason}"\n    approvedBy: security-officer\n    ticket: "#4"\n    expires: 2027-01-31\n`;
    expect(parseExceptions(yaml, "f.yaml")[0].expires).toBe("2027-01-31");
  });
});
