/** The controls table of docs/policy.md, generated from the catalog (a test keeps them in sync). */
import { CATALOG } from "../catalog.js";
import type { Control } from "../types.js";

const exceptable = (c: Control) => (c.exceptions === "never" ? "never" : `${c.exceptions.tiers.join(", ")} (${c.exceptions.approvers.join(", ")})`);
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function catalogTable(): string {
  const rows = CATALOG.map(
    (c) =>
      `| ${c.id} | ${cell(c.title)} | ${c.rfc3647} | ${cell(c.references.join(", "))} | ${c.severity} | ${c.tiers.join(", ")}${c.rootOfTrust ? ` (${c.rootOfTrust.join(", ")} root only)` : ""} | ${c.basis} | ${c.owner} | ${exceptable(c)} | ${cell(c.rationale)} |`,
  );
  return `${["| Id | Control | RFC 3647 | References | Severity | Tiers | Basis | Owner | Exceptable (approvers) | Rationale |", "|---|---|---|---|---|---|---|---|---|---|", ...rows].join("\n")}\n`;
}
