/** The machine-readable report (`policy/<env>.json`): stable order, no timing. */
import { stableStringify } from "../../constructs/model.js";
import type { PolicyResult } from "../types.js";

export function jsonReport(r: PolicyResult): string {
  return stableStringify({
    environment: r.environment,
    tier: r.tier,
    rootOfTrust: r.rootOfTrust,
    evaluatedAt: r.evaluatedAt,
    counts: r.counts,
    controls: r.results.map((x) => ({
      id: x.control.id,
      title: x.control.title,
      rfc3647: x.control.rfc3647,
      references: x.control.references,
      severity: x.control.severity,
      tiers: x.control.tiers,
      status: x.status,
      note: x.note,
      findings: x.findings.map(({ key: _k, ...f }) => f),
      excepted: x.excepted.map(({ key: _k, ...f }) => f),
      evidence: x.evidence,
    })),
    exceptions: r.exceptions,
  });
}
