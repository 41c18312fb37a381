/**
 * The outputs of a review: synthesized folders in, Markdown that parses into the expected
 * structure, JSON valid against the published schema, terminal text readable without colour,
 * deterministic diagrams, and a git ref synthesized in a temporary worktree (removed after).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import MarkdownIt from "markdown-it";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stableStringify } from "../../constructs/model.js";
import production from "../../environments/production.js";
import { parseEnvironment, type EnvironmentInput } from "../../environments/index.js";
import { diagramExtension, runDiff, exceedsThreshold } from "../../review/cli.js";
import { topologyDot, topologySvg } from "../../review/diagram.js";
import { renderMarkdown, renderTerminal } from "../../review/render.js";
import { DIFF_REPORT_SCHEMA } from "../../review/schema.js";
import type { DiffReport } from "../../review/types.js";
import { synthesize } from "../../stacks/synth.js";
import type { Mutable } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "review-output-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Top and bottom (SVG y, down is larger) of each site frame drawn by Graphviz. */
function siteFrames(svg: string): Record<string, { top: number; bottom: number }> {
  const out: Record<string, { top: number; bottom: number }> = {};
  for (const m of svg.matchAll(/<title>cluster_site_([^<]+)<\/title>\s*<(?:path[^>]* d|polygon[^>]* points)="([^"]+)"/g)) {
    const ys = [...m[2].matchAll(/-?[\d.]+,(-?[\d.]+)/g)].map((p) => Number(p[1]));
    out[m[1]] = { top: Math.min(...ys), bottom: Math.max(...ys) };
  }
  return out;
}
const primaryOnTop = (svg: string) => {
  const f = siteFrames(svg);
  expect(Object.keys(f).sort()).toEqual(["backup", "lanic"]);
  expect(f.lanic.bottom, JSON.stringify(f)).toBeLessThan(f.backup.top);
};

const validate = new Ajv({ allErrors: true, strict: true }).compile(DIFF_REPORT_SCHEMA);

async function synth(dir: string, change?: (e: Mutable<EnvironmentInput>) => void) {
  const input = structuredClone(production) as Mutable<EnvironmentInput>;
  change?.(input);
  await synthesize([parseEnvironment(input, "test/production.ts")], { outdir: dir, extensions: [diagramExtension()] });
}

describe("a review of two synthesized folders", () => {
  let report: DiffReport;
  beforeAll(async () => {
    await synth(join(tmp, "base"));
    await synth(join(tmp, "head"), (e) => {
      e.database.instances = 2; // inside the CloudNativePG Cluster manifest
      e.images.pkiServices = `registry.lanic.gov.la/lanic-ca/pki-services@sha256:${"cd".repeat(32)}`;
      e.ra.governmentNetworks = ["10.0.0.0/8"];
    });
    report = await runDiff({ base: join(tmp, "base"), head: join(tmp, "head"), envs: [] });
  });

  it("classifies, lists the Terraform changes and says what it cannot see", () => {
    const e = report.environments[0];
    expect(e.name).toBe("production");
    expect(e.security.map((s) => s.class)).toContain("signing-image");
    expect(e.stacks.map((s) => s.stack)).toEqual(["production-backup", "production-lanic"]);
    expect(report.notes.map((n) => n.message).join("\n")).toMatch(/kubernetes_manifest\.\S+ changed inside its opaque manifest/);
    expect(report.requiredApproval).toMatchObject({ level: "two-person", approvers: 2, label: "approved:two-person" });
    expect(exceedsThreshold(report, "high")).toBe(true);
    expect(exceedsThreshold(report, "none")).toBe(false);
  });

  it("JSON validates against the schema (with requiredApproval)", () => {
    const json = JSON.parse(stableStringify(report));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.requiredApproval.level).toBe("two-person");
    // The schema is strict: an unknown field is refused.
    expect(validate({ ...json, extra: 1 })).toBe(false);
    // One grouped signing-image entry names every signing component of both sites.
    const env = json.environments[0];
    const images = env.security.filter((s: { class: string }) => s.class === "signing-image");
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ subject: "18 signing components at sites lanic, backup", sites: ["lanic", "backup"] });
    expect(images[0].subjects).toHaveLength(18);
    // subjects and sites are required; subjects is never empty.
    const without = (k: string) => ({ ...json, environments: [{ ...env, security: [Object.fromEntries(Object.entries(images[0]).filter(([x]) => x !== k))] }] });
    expect(validate(without("subjects"))).toBe(false);
    expect(validate(without("sites"))).toBe(false);
    expect(validate({ ...json, environments: [{ ...env, security: [{ ...images[0], subjects: [] }] }] })).toBe(false);
    expect(validate({ ...json, environments: [{ ...env, security: [images[0]] }] })).toBe(true);
  });

  it("Markdown parses into a heading, the approval, a table of security changes and the notes", () => {
    const md = renderMarkdown(report, { marker: "lanic-ca-security-review" });
    const tokens = new MarkdownIt({ html: true }).parse(md, {});
    expect(tokens[0]).toMatchObject({ type: "html_block", content: "<!-- lanic-ca-security-review -->\n" });
    const headings = tokens.flatMap((t, i) => (t.type === "heading_open" ? [`${t.tag} ${tokens[i + 1].content}`] : []));
    expect(headings).toEqual(["h2 Topology security review", "h3 production — changed", "h3 What this diff cannot see"]);
    const rows = tokens.filter((t) => t.type === "tr_open").length;
    const tables = tokens.filter((t) => t.type === "table_open").length;
    expect(tables).toBe(2); // security changes, stacks
    expect(rows).toBe(1 + report.environments[0].security.length + 1 + report.environments[0].stacks.length);
    expect(md).toContain("Required approval: 🔴 TWO PEOPLE");
    const html = new MarkdownIt({ html: true }).render(md);
    expect(html).toContain("<table>");
  });

  it("terminal output reads the same without colour", () => {
    const plain = renderTerminal(report, { color: false });
    expect(plain).not.toMatch(/\x1b\[/);
    expect(plain).toContain("Required approval: TWO PEOPLE: a security officer AND a CA system administrator");
    expect(plain).toMatch(/HIGH +\[signing-image\]/);
    const colored = renderTerminal(report, { color: true });
    expect(colored.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  it("identical folders: empty diff", async () => {
    const same = await runDiff({ base: join(tmp, "base"), head: join(tmp, "base"), envs: [] });
    expect(same.environments.map((e) => e.status)).toEqual(["unchanged"]);
    expect(same.summary).toEqual({ high: 0, medium: 0, low: 0, narrowing: 0, other: 0, stackResources: 0 });
    expect(validate(JSON.parse(stableStringify(same)))).toBe(true);
  });

  it("diagrams: byte-identical for the same input, with sites, zones, HSM and the offline root", async () => {
    const a = readFileSync(join(tmp, "base", "diagrams", "production.svg"), "utf8");
    await synth(join(tmp, "base2"));
    expect(readFileSync(join(tmp, "base2", "diagrams", "production.svg"), "utf8")).toBe(a);
    expect(a).toContain("<svg");
    for (const s of ["Site lanic (primary)", "Site backup (backup)", "issuing zone (protected)", "OFFLINE ROOT ENCLAVE", "HSM Thales Luna Network HSM 7", "8443 mTLS"]) expect(a).toContain(s);
    primaryOnTop(a);
  });

  it("diagrams: the primary site is drawn above the backup site, also in diff diagrams and whatever the order of the sites in the model", async () => {
    const base = JSON.parse(readFileSync(join(tmp, "base", "topology", "production.json"), "utf8"));
    // This change made Graphviz draw the backup site on top before the sites were anchored.
    const head = structuredClone(base);
    head.flows.push({ ...structuredClone(base.flows.find((f: { port: number }) => f.port === 8443)), from: { type: "component", id: "lanic/repository" } });
    head.components = head.components.filter((c: { id: string }) => c.id !== "backup/ra-frontend");
    const digest = structuredClone(base);
    for (const c of digest.components) if (c.signing && c.image) c.image = c.image.replace(/sha256:.*/, `sha256:${"ab".repeat(32)}`);
    const reversed = (t: typeof base) => {
      const r = structuredClone(t);
      r.environment.sites.reverse();
      return r;
    };
    expect(reversed(base).environment.sites[0].name).toBe("backup");
    for (const svg of [await topologySvg(head, base), await topologySvg(digest, base), await topologySvg(reversed(head), reversed(base)), await topologySvg(reversed(base))]) primaryOnTop(svg);
  });

  it("diff diagram marks added, removed and changed", async () => {
    const base = JSON.parse(readFileSync(join(tmp, "base", "topology", "production.json"), "utf8"));
    const head = structuredClone(base);
    head.flows.push({ ...structuredClone(base.flows.find((f: { port: number }) => f.port === 8443)), from: { type: "component", id: "lanic/repository" } });
    head.components = head.components.filter((c: { id: string }) => c.id !== "backup/ra-frontend");
    head.components.find((c: { id: string }) => c.id === "lanic/ra").replicas = 1;
    const dot = topologyDot(head, base);
    expect(dot).toContain('color="#1a7f37"'); // added
    expect(dot).toContain('color="#cf222e"'); // removed
    expect(dot).toContain('color="#d4a017"'); // changed
    expect(await topologySvg(head, base)).toBe(await topologySvg(head, base));
  });
});

describe("a git ref as the base", () => {
  it("synthesizes HEAD in a temporary worktree and removes it", async () => {
    const repo = process.cwd();
    const worktrees = () =>
      execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: repo, encoding: "utf8" })
        .split("\n")
        .filter((l) => l.startsWith("worktree "));
    const before = worktrees();
    const r = await runDiff({ base: "HEAD", head: join(tmp, "base"), envs: ["production"], repo });
    expect(r.base).toMatch(/^HEAD \([0-9a-f]{12}\)$/);
    expect(r.environments.map((e) => e.name)).toEqual(["production"]);
    expect(validate(JSON.parse(stableStringify(r)))).toBe(true);
    expect(worktrees()).toEqual(before);
  }, 240_000);
});
