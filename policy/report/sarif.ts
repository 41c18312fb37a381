/**
 * SARIF 2.1.0 (`policy/<env>.sarif`), read by GitHub code scanning. Rules are the controls;
 * results are open findings (level error/warning) and excepted ones (with an accepted
 * suppression). Locations: the environment definition file, with the construct path as a
 * logical location. Validated against the OASIS schema in test/policy (policy/schemas/).
 */
import { CATALOG } from "../catalog.js";
import type { Finding, PolicyResult } from "../types.js";

export function sarifLog(results: PolicyResult[]): Record<string, unknown> {
  const rules = CATALOG.map((c) => ({
    id: c.id,
    name: c.id.replace(/-/g, ""),
    shortDescription: { text: c.title },
    fullDescription: { text: c.rationale },
    help: { text: `RFC 3647 ${c.rfc3647}; ${c.references.join(", ")}. ${c.rationale}` },
    defaultConfiguration: { level: c.severity },
    properties: { rfc3647: c.rfc3647, references: c.references, tiers: c.tiers, tags: ["cp-cps", ...c.references] },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const runs = results.map((r) => {
    const result = (f: Finding, excepted: boolean) => ({
      ruleId: f.controlId,
      ruleIndex: index.get(f.controlId) ?? 0,
      level: f.severity,
      message: { text: `${f.found}. Required: ${f.required}. Fix: ${f.fix}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: `environments/${r.environment}.ts`, uriBaseId: "SRCROOT" } },
          logicalLocations: [{ fullyQualifiedName: f.path, kind: "module" }],
        },
      ],
      partialFingerprints: { findingId: f.id },
      properties: { environment: r.environment, constructPath: f.path },
      ...(excepted
        ? {
            suppressions: [
              (() => {
                const e = r.exceptions.find((x) => x.covers.includes(f.id));
                return { kind: "external", status: "accepted", justification: e ? `${e.reason} (approved by ${e.approvedBy}, ${e.ticket}, expires ${e.expires})` : "exception" };
              })(),
            ],
          }
        : {}),
    });
    return {
      tool: { driver: { name: "lanic-ca-policy", informationUri: "https://repository.ca.gov.la/cps/1.0", semanticVersion: "1.0.0", rules } },
      automationDetails: { id: `lanic-ca-policy/${r.environment}/` },
      originalUriBaseIds: { SRCROOT: { uri: "file:///" } },
      invocations: [{ executionSuccessful: true, endTimeUtc: r.evaluatedAt }],
      results: r.results.flatMap((x) => [...x.findings.map((f) => result(f, false)), ...x.excepted.map((f) => result(f, true))]),
      properties: { environment: r.environment, tier: r.tier, counts: r.counts },
    };
  });
  return { $schema: "https://json.schemastore.org/sarif-2.1.0.json", version: "2.1.0", runs };
}

export function sarifReport(results: PolicyResult[]): string {
  return `${JSON.stringify(sarifLog(results), null, 2)}\n`;
}
