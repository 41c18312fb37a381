/**
 * Renders a DiffReport for people: a terminal page (colour when the terminal has it; every
 * severity also spelled out, so it reads the same without colour) and Markdown for a
 * pull-request comment. JSON is the report itself (`stableStringify`).
 */
import type { DiffReport, OtherChange, SecurityChange, StackChange } from "./types.js";
import pc from "picocolors";

type Colors = Pick<typeof pc, "red" | "yellow" | "green" | "bold" | "dim" | "cyan">;
const plain: Colors = { red: String, yellow: String, green: String, bold: String, dim: String, cyan: String } as unknown as Colors;

const LEVEL_TEXT = {
  "two-person": "TWO PEOPLE: a security officer AND a CA system administrator",
  "security-officer": "a security officer",
  standard: "the normal code review",
} as const;

const short = (v: unknown, max = 100): string => {
  const s = v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

function groupOther(other: OtherChange[]): Map<string, OtherChange[]> {
  const m = new Map<string, OtherChange[]>();
  for (const o of other) m.set(o.group, [...(m.get(o.group) ?? []), o]);
  return m;
}

/** Terminal text. `color: false` gives the same text without escape codes. */
export function renderTerminal(report: DiffReport, options: { color?: boolean; maxOther?: number } = {}): string {
  const c: Colors = (options.color ?? pc.isColorSupported) ? pc : plain;
  const maxOther = options.maxOther ?? 200;
  const out: string[] = [];
  const tag = (x: SecurityChange) => (x.direction === "narrowing" ? c.green("NARROWING") : x.severity === "high" ? c.red(c.bold("HIGH  ")) : x.severity === "medium" ? c.yellow("MEDIUM") : c.dim("LOW   "));
  out.push(c.bold(`lanic-ca diff  ${report.base}  →  ${report.head}`));
  const a = report.requiredApproval;
  const lvl = a.level === "two-person" ? c.red(c.bold(LEVEL_TEXT[a.level])) : a.level === "security-officer" ? c.yellow(LEVEL_TEXT[a.level]) : c.green(LEVEL_TEXT[a.level]);
  out.push(`Required approval: ${lvl}`);
  const s = report.summary;
  out.push(c.dim(`${s.high} high, ${s.medium} medium, ${s.low} low (${s.narrowing} narrowing); ${s.other} other changes; ${s.stackResources} Terraform resources differ`));
  for (const e of report.environments) {
    out.push("");
    out.push(c.bold(c.cyan(`== ${e.name} (${e.status})`)));
    if (e.status === "unchanged") continue;
    if (e.security.length) {
      out.push(c.bold("Security-relevant changes"));
      for (const x of e.security) {
        out.push(`  ${tag(x)} [${x.class}] ${c.bold(x.subject)}`);
        out.push(`         ${x.summary}`);
        if (x.subjects.length > 1) for (const line of wrap(`applies to: ${x.subjects.join(", ")}`, 100)) out.push(`         ${line}`);
        if (x.evidence.length) out.push(c.dim(`         at ${x.evidence.slice(0, 3).join(", ")}${x.evidence.length > 3 ? `, … (${x.evidence.length} in all)` : ""}`));
      }
    } else out.push(c.green("No security-relevant change."));
    if (e.other.length) {
      out.push(c.bold("Other changes, by component"));
      let n = 0;
      for (const [group, items] of groupOther(e.other)) {
        if (n >= maxOther) break;
        out.push(`  ${c.bold(group)}`);
        for (const o of items) {
          if (n++ >= maxOther) break;
          if (o.kind !== "changed") out.push(`    ${o.kind === "added" ? c.green("+") : c.red("-")} ${o.entity}`);
          else for (const f of o.fields) out.push(`    ~ ${o.entity === `component ${group}` ? "" : `${o.entity}: `}${f.path}: ${c.red(short(f.before))} → ${c.green(short(f.after))}`);
        }
      }
      if (n >= maxOther) out.push(c.dim(`  … ${e.other.length - maxOther} more (see --format json)`));
    }
    if (e.stacks.length) {
      out.push(c.bold("Terraform stacks"));
      for (const st of e.stacks) out.push(`  ${st.stack}: ${stackLine(st)}`);
    }
  }
  const notes = report.notes;
  if (notes.length) {
    out.push("");
    out.push(c.bold("What this diff cannot see"));
    for (const n of notes) out.push(c.yellow(`  ! ${n.environment ? `${n.environment}: ` : ""}${n.message}`));
  }
  return `${out.join("\n")}\n`;
}

/** Wraps at `width` on ", " boundaries (a subject is never split). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const part of text.split(/(?<=, )/)) {
    if (cur && (cur + part).trimEnd().length > width) {
      lines.push(cur.trimEnd());
      cur = `  ${part}`;
    } else cur += part;
  }
  if (cur) lines.push(cur.trimEnd());
  return lines;
}

const stackLine = (st: StackChange) => `${st.kind}: +${st.added.length} −${st.removed.length} ~${st.changed.length} resources`;

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (v: unknown) => `\`${short(v, 80).replace(/`/g, "'")}\``;

/** Markdown for a pull-request comment. `marker` (an HTML comment) lets CI find and update its
 *  own comment. */
export function renderMarkdown(report: DiffReport, options: { marker?: string; maxOther?: number } = {}): string {
  const out: string[] = [];
  const maxOther = options.maxOther ?? 150;
  if (options.marker) out.push(`<!-- ${options.marker} -->`);
  out.push(`## Topology security review`);
  out.push("");
  out.push(`\`${md(report.base)}\` → \`${md(report.head)}\``);
  out.push("");
  const a = report.requiredApproval;
  const icon = a.level === "two-person" ? "🔴" : a.level === "security-officer" ? "🟠" : "🟢";
  out.push(`**Required approval: ${icon} ${LEVEL_TEXT[a.level]}**${a.label ? ` (label \`${a.label}\`)` : ""}`);
  out.push("");
  const s = report.summary;
  out.push(`${s.high} high · ${s.medium} medium · ${s.low} low (${s.narrowing} narrowing) · ${s.other} other changes · ${s.stackResources} Terraform resources differ`);
  for (const e of report.environments) {
    out.push("");
    out.push(`### ${e.name} — ${e.status}`);
    if (e.status === "unchanged") continue;
    out.push("");
    if (e.security.length) {
      out.push("| Severity | Class | Subject | Change |");
      out.push("| --- | --- | --- | --- |");
      for (const x of e.security) {
        const sev = x.direction === "narrowing" ? "🟢 narrowing" : x.severity === "high" ? "🔴 high" : x.severity === "medium" ? "🟠 medium" : "⚪ low";
        const subject = x.subjects.length > 1 ? `**${md(x.subject)}**<br>${x.subjects.map(md).join(", ")}` : md(x.subject);
        out.push(`| ${sev} | ${x.class} | ${subject} | ${md(x.summary)} |`);
      }
    } else out.push("No security-relevant change.");
    if (e.other.length) {
      out.push("");
      out.push(`<details><summary>Other changes (${e.other.length}), by component</summary>`);
      out.push("");
      let n = 0;
      for (const [group, items] of groupOther(e.other)) {
        if (n >= maxOther) break;
        out.push(`- **${md(group)}**`);
        for (const o of items) {
          if (n++ >= maxOther) break;
          if (o.kind !== "changed") out.push(`  - ${o.kind}: ${md(o.entity)}`);
          else for (const f of o.fields) out.push(`  - ${md(o.entity)} \`${md(f.path)}\`: ${code(f.before)} → ${code(f.after)}`);
        }
      }
      if (n >= maxOther) out.push(`- … ${e.other.length - maxOther} more (JSON report)`);
      out.push("");
      out.push("</details>");
    }
    if (e.stacks.length) {
      out.push("");
      out.push("| Stack | Change |");
      out.push("| --- | --- |");
      for (const st of e.stacks) out.push(`| ${st.stack} | ${stackLine(st)} |`);
    }
  }
  if (report.notes.length) {
    out.push("");
    out.push("### What this diff cannot see");
    out.push("");
    for (const n of report.notes) out.push(`- ${n.environment ? `**${n.environment}**: ` : ""}${md(n.message)}`);
  }
  if (a.reasons.length) {
    out.push("");
    out.push(`<details><summary>Why this approval</summary>`);
    out.push("");
    for (const r of a.reasons.slice(0, 50)) out.push(`- ${md(r)}`);
    out.push("");
    out.push("</details>");
  }
  return `${out.join("\n")}\n`;
}
