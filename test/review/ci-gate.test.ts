/** The CI gate's decision: label or approvals count against the required approval. */
import { describe, expect, it } from "vitest";
import { decide } from "../../scripts/ci-gate.js";

const report = (level: "two-person" | "security-officer" | "standard") => ({
  requiredApproval: { level, roles: [], approvers: level === "two-person" ? 2 : 1, label: level === "standard" ? null : `approved:${level}`, reasons: ["production: [hsm-grant] x"] },
  summary: {},
});

describe("ci-gate decide", () => {
  it.each([
    ["standard", [], 0, false, true],
    ["two-person", [], 5, false, false],
    ["two-person", ["approved:security-officer"], 0, false, false],
    ["two-person", ["approved:two-person"], 0, false, true],
    ["two-person", [], 1, true, false],
    ["two-person", [], 2, true, true],
    ["security-officer", ["approved:two-person"], 0, false, true],
  ] as const)("%s with labels %j and %i approvals (count: %s) → pass %s", (level, labels, approvals, countApprovals, pass) => {
    expect(decide({ report: report(level), labels: [...labels], approvals, countApprovals }).pass).toBe(pass);
  });
  it("names who must approve when it fails", () => {
    expect(decide({ report: report("two-person"), labels: [], approvals: 0, countApprovals: false }).message).toMatch(/two people: a security officer AND a CA system administrator[\s\S]*approved:two-person/);
  });
});
