/** LCA-EXC-01: exceptions must be current, approved by a trusted role, ticketed and used. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExceptions, ExceptionsError } from "../../policy/index.js";
import type { PolicyException } from "../../policy/exceptions.js";
import { build, check, cleanup, findingsOf, statusOf, type Built } from "./fixtures.js";

let violating: Built;
beforeAll(() => {
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
  it("matches by construct path as well as by finding id", () => {
    const r = check(violating, { exceptions: [{ ...base, finding: "production/production-lanic/repository/repository" }] });
    expect(statusOf(r, "LCA-WKL-03")).toBe("excepted");
  });
  it("a '*' pattern covers the same finding at every site, and does not cross '/'", () => {
    const b = build("production");
    for (const site of ["lanic", "backup"])
      b.model.flows.push({ from: { type: "component", id: `${site}/ra` }, to: { type: "component", id: `${site}/lanic-ca-db` }, port: 5432, protocol: "TCP", mtls: true, purpose: "RA in the CA database", site, path: `production/production-${site}/registration-authority/service` });
    const all = check(b, { exceptions: [{ ...base, control: "LCA-NET-03", finding: "LCA-NET-03:edge:*/ra->*/lanic-ca-db:5432" }] });
    expect(all.exceptions[0].covers.sort()).toEqual(["LCA-NET-03:edge:backup/ra->backup/lanic-ca-db:5432", "LCA-NET-03:edge:lanic/ra->lanic/lanic-ca-db:5432"]);
    expect(statusOf(all, "LCA-NET-03")).toBe("excepted");
    const none = check(b, { exceptions: [{ ...base, control: "LCA-NET-03", finding: "LCA-NET-03:edge:*->*" }] });
    expect(findingsOf(none, "LCA-EXC-01").map((f) => f.id)).toEqual(["LCA-EXC-01:0:unmatched"]);
  });
  it("violating: an expired exception is an error and does not cover its finding", () => {
    const r = check(violating, { exceptions: [{ ...base, expires: "2026-11-21" }] });
    expect(findingsOf(r, "LCA-EXC-01").map((f) => [f.id, f.found])).toEqual([
      ["LCA-EXC-01:0:expired", "exception LCA-WKL-03 LCA-WKL-03:component:lanic/repository expired on 2026-11-21 (today 2026-11-22)"],
    ]);
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
    [{ expires: "next year" }, "expires:"],
    [{ extra: 1 }, "Unrecognized key"],
  ])("the file is parsed strictly: %o", (change, message) => {
    const e = { ...base, ...change };
    const yaml = `exceptions:\n  - ${Object.entries(e).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n    ")}\n`;
    expect(() => parseExceptions(yaml, "policy/exceptions/production.yaml")).toThrow(ExceptionsError);
    expect(() => parseExceptions(yaml, "policy/exceptions/production.yaml")).toThrow(message);
  });
  it("YAML dates are accepted", () => {
    const yaml = `exceptions:\n  - control: LCA-WKL-03\n    finding: x\n    reason: "${base.reason}"\n    approvedBy: security-officer\n    ticket: "#4"\n    expires: 2027-01-31\n`;
    expect(parseExceptions(yaml, "f.yaml")[0].expires).toBe("2027-01-31");
  });
});
