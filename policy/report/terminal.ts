/** The terminal summary: counts, then each open finding with its fix, then exceptions. */
import type { PolicyResult } from "../types.js";
import pc from "picocolors";

export function terminalReport(results: PolicyResult[], color = true): string {
  const c = color ? pc : pc.createColors(false);
  const lines: string[] = [];
  for (const r of results) {
    const n = r.counts;
    const head = `${r.environment} (${r.tier}, ${r.rootOfTrust} root): ${n.passed} passed, ${n.failed} failed, ${n.excepted} excepted, ${n.notApplicable} not applicable — ${n.errors} error(s), ${n.warnings} warning(s)`;
    lines.push(`${n.errors ? c.red("✖") : c.green("✔")} ${c.bold(head)}`);
    for (const res of r.results)
      for (const f of res.findings) {
        const tag = f.severity === "error" ? c.red("error") : c.yellow("warning");
        lines.push(`  ${tag} ${c.bold(f.controlId)} ${res.control.title}`);
        lines.push(`    at       ${f.path}`);
        lines.push(`    found    ${f.found}`);
        lines.push(`    required ${f.required}`);
        lines.push(`    fix      ${f.fix}`);
        lines.push(`    id       ${c.dim(f.id)}`);
      }
    for (const e of r.exceptions) lines.push(`  ${c.cyan("exception")} ${e.control} ${e.finding} — ${e.reason} (approved by ${e.approvedBy}, ${e.ticket}, expires ${e.expires}; covers ${e.covers.length})`);
  }
  return `${lines.join("\n")}\n`;
}
