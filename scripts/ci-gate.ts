#!/usr/bin/env node
/**
 * The CI gate of a pull / merge request: reads the `lanic-ca diff --json` report, compares the
 * approval it requires with what the request has (a label, or a count of approvals), optionally
 * posts or updates ONE comment (policy summary + diff), and exits 1 when the approval is missing.
 *
 * Anyone can run it locally:
 *   node dist/bin/lanic-ca.js diff --base origin/main --json review.json --markdown review.md
 *   node dist/scripts/ci-gate.js --report review.json --labels approved:two-person
 *
 * Options
 *   --report <file>        diff JSON (required)
 *   --markdown <file>      diff Markdown (comment body); default: none
 *   --policy-dir <dir>     folder with policy/<env>.md summaries to put first (default cdktf.out/policy)
 *   --labels <a,b>         labels on the request (GitHub: from the event; GitLab: CI_MERGE_REQUEST_LABELS)
 *   --approvals <n>        approvals the request has
 *   --count-approvals      let an approvals count satisfy the gate (only where approval rules /
 *                          CODEOWNERS restrict approvers to security officers and CA system
 *                          administrators)
 *   --post github|gitlab   create or update the one comment (needs GITHUB_TOKEN / GITLAB_TOKEN)
 *   --marker <text>        HTML comment that identifies the comment (default lanic-ca-security-review)
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

interface Report {
  requiredApproval: { level: "two-person" | "security-officer" | "standard"; roles: string[]; approvers: number; label: string | null; reasons: string[] };
  summary: Record<string, number>;
}

/** Labels that satisfy each level (a stronger approval satisfies a weaker one). */
export const SATISFYING_LABELS: Record<Report["requiredApproval"]["level"], string[]> = {
  "two-person": ["approved:two-person"],
  "security-officer": ["approved:security-officer", "approved:two-person"],
  standard: [],
};

export interface GateInput {
  report: Report;
  labels: string[];
  approvals: number;
  countApprovals: boolean;
}

/** The decision, as text and a pass flag. Pure: tested, and the same locally and in CI. */
export function decide(g: GateInput): { pass: boolean; message: string } {
  const r = g.report.requiredApproval;
  if (r.level === "standard") return { pass: true, message: "gate: no security approval needed (normal review)" };
  const who = r.level === "two-person" ? "two people: a security officer AND a CA system administrator" : "a security officer";
  const label = SATISFYING_LABELS[r.level].find((l) => g.labels.includes(l));
  if (label) return { pass: true, message: `gate: approval ${r.level} given (label ${label})` };
  if (g.countApprovals && g.approvals >= r.approvers) return { pass: true, message: `gate: approval ${r.level} given (${g.approvals} approvals ≥ ${r.approvers})` };
  return {
    pass: false,
    message:
      `gate: this change needs approval by ${who}.\n` +
      `  add the label '${r.label}' once they have approved${g.countApprovals ? `, or get ${r.approvers} approvals (now ${g.approvals})` : ""}.\n` +
      r.reasons
        .slice(0, 20)
        .map((x) => `  - ${x}`)
        .join("\n"),
  };
}

function commentBody(marker: string, markdown: string | null, policyDir: string, gate: string): string {
  const parts = [`<!-- ${marker} -->`];
  if (existsSync(policyDir)) {
    const mds = readdirSync(policyDir)
      .filter((f) => f.endsWith(".md"))
      .sort();
    if (mds.length) {
      parts.push("## Policy (CP/CPS controls)");
      for (const f of mds) parts.push(readFileSync(join(policyDir, f), "utf8").replace(/^#+ /gm, "#### "));
    }
  } else parts.push("_No policy report in this run (cdktf.out/policy/ missing)._");
  if (markdown) parts.push(markdown.replace(new RegExp(`^<!-- ${marker} -->\\n`), ""));
  parts.push(`\n---\n\`${gate.split("\n")[0]}\``);
  return parts.join("\n\n");
}

async function post(platform: string, marker: string, body: string) {
  if (platform === "github") {
    const token = process.env.GITHUB_TOKEN,
      repo = process.env.GITHUB_REPOSITORY;
    const event = process.env.GITHUB_EVENT_PATH ? JSON.parse(readFileSync(process.env.GITHUB_EVENT_PATH, "utf8")) : {};
    const pr = event.pull_request?.number;
    if (!token || !repo || !pr) throw new Error("--post github needs GITHUB_TOKEN, GITHUB_REPOSITORY and a pull_request event");
    const api = `${process.env.GITHUB_API_URL ?? "https://api.github.com"}/repos/${repo}/issues`;
    const headers = { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "content-type": "application/json" };
    const comments = (await (await fetch(`${api}/${pr}/comments?per_page=100`, { headers })).json()) as { id: number; body: string }[];
    const mine = comments.find((c) => c.body.includes(`<!-- ${marker} -->`));
    const res = mine
      ? await fetch(`${api}/comments/${mine.id}`, { method: "PATCH", headers, body: JSON.stringify({ body }) })
      : await fetch(`${api}/${pr}/comments`, { method: "POST", headers, body: JSON.stringify({ body }) });
    if (!res.ok) throw new Error(`GitHub comment: HTTP ${res.status}`);
  } else if (platform === "gitlab") {
    const token = process.env.GITLAB_TOKEN,
      api = process.env.CI_API_V4_URL,
      project = process.env.CI_PROJECT_ID,
      mr = process.env.CI_MERGE_REQUEST_IID;
    if (!token || !api || !project || !mr) throw new Error("--post gitlab needs GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID and CI_MERGE_REQUEST_IID");
    const base = `${api}/projects/${project}/merge_requests/${mr}/notes`;
    const headers = { "private-token": token, "content-type": "application/json" };
    const notes = (await (await fetch(`${base}?per_page=100`, { headers })).json()) as { id: number; body: string }[];
    const mine = notes.find((n) => n.body.includes(`<!-- ${marker} -->`));
    const res = mine ? await fetch(`${base}/${mine.id}`, { method: "PUT", headers, body: JSON.stringify({ body }) }) : await fetch(base, { method: "POST", headers, body: JSON.stringify({ body }) });
    if (!res.ok) throw new Error(`GitLab note: HTTP ${res.status}`);
  } else throw new Error(`--post ${platform}: must be github or gitlab`);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      report: { type: "string" },
      markdown: { type: "string" },
      "policy-dir": { type: "string", default: "cdktf.out/policy" },
      labels: { type: "string", default: "" },
      approvals: { type: "string", default: "0" },
      "count-approvals": { type: "boolean", default: false },
      post: { type: "string" },
      marker: { type: "string", default: "lanic-ca-security-review" },
    },
  });
  if (!values.report) {
    console.error("ci-gate: --report <diff.json> is required");
    return 2;
  }
  const report = JSON.parse(readFileSync(values.report, "utf8")) as Report;
  const labels = values.labels
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const verdict = decide({ report, labels, approvals: Number(values.approvals) || 0, countApprovals: values["count-approvals"] });
  if (values.post) {
    const md = values.markdown && existsSync(values.markdown) ? readFileSync(values.markdown, "utf8") : null;
    await post(values.post, values.marker, commentBody(values.marker, md, values["policy-dir"], verdict.message));
  }
  (verdict.pass ? console.log : console.error)(verdict.message);
  return verdict.pass ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`ci-gate: ${(e as Error).message}`);
      process.exit(2);
    },
  );
}
