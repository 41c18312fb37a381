/** The synth gate and `lanic-ca check`: refusal prints the report first and writes no stack. */
import { CATALOG } from "../../policy/index.js";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { buildProgram } from "../../cli/program.js";
import { loadEnvironment, parseEnvironment } from "../../environments/index.js";
import { PolicyRefusal, policyExtension } from "../../policy/extension.js";
import { synthesize } from "../../stacks/synth.js";
import { definition, NOW } from "./fixtures.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "lanic-policy-gate-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const EXCEPTIONS = join(import.meta.dirname, "../../policy/exceptions");

describe("synth gate", () => {
  it("refuses an error-level violation: prints the report, writes the policy reports, writes no stack", async () => {
    const def = definition("production");
    def.auditLog.retentionDays = 700;
    const env = parseEnvironment(def, "fixture");
    const out = tmp();
    let printed = "";
    const gate = policyExtension({ now: NOW, exceptionsDir: EXCEPTIONS, print: (t) => (printed += t) });
    const run = synthesize([env], { outdir: out, extensions: [gate] });
    await expect(run).rejects.toThrow(PolicyRefusal);
    await expect(run).rejects.toThrow("lanic-ca synth: refused by the CP/CPS policy: production (1 error)");
    expect(printed).toContain("✖ production (production, offline root)");
    expect(printed).toContain("error LCA-AUD-02 Audit log retention (7 years in production)");
    expect(printed).toContain("fix      set auditLog.retentionDays ≥ 2557");
    // cdktf's App creates the empty stacks/ folder; no stack is synthesized into it.
    expect(existsSync(join(out, "stacks")) ? readdirSync(join(out, "stacks")) : []).toEqual([]);
    expect(readdirSync(join(out, "policy")).sort()).toEqual(["production.json", "production.junit.xml", "production.md", "production.sarif"]);
  });

  it("passes the shipped environments, writes every report, and the stacks are byte-identical to a synth without the gate", async () => {
    const envs = ["production", "pilot"].map(loadEnvironment);
    const withGate = tmp();
    const without = tmp();
    let printed = "";
    const r = await synthesize(envs, { outdir: withGate, extensions: [policyExtension({ now: NOW, exceptionsDir: EXCEPTIONS, print: (t) => (printed += t) })] });
    await synthesize(envs, { outdir: without });
    expect(printed).toContain("✔ production (production, offline root)");
    expect(
      r.environments
        .flatMap((e) => e.files)
        .filter((f) => f.includes("/policy/"))
        .map((f) => f.slice(f.indexOf("policy/")))
        .sort(),
    ).toEqual([
      "policy/pilot.json",
      "policy/pilot.junit.xml",
      "policy/pilot.md",
      "policy/pilot.sarif",
      "policy/production.json",
      "policy/production.junit.xml",
      "policy/production.md",
      "policy/production.sarif",
      "policy/traceability.md",
    ]);
    for (const id of ["production-lanic", "production-backup", "pilot-lanic", "pilot-backup"])
      expect(readFileSync(join(withGate, "stacks", id, "cdk.tf.json"), "utf8")).toBe(readFileSync(join(without, "stacks", id, "cdk.tf.json"), "utf8"));
  });
});

describe("where the gate's exceptions come from", () => {
  const unmatched = {
    control: "LCA-NET-03",
    finding: "no-such-finding",
    reason: "an exception that covers nothing, to see where it was read from",
    approvedBy: "security-officer" as const,
    ticket: "LANIC-CA-1",
    expires: "2026-12-22",
  };

  it("uses the `exceptions` given before the exceptions folder", async () => {
    let printed = "";
    const given = policyExtension({ now: NOW, exceptions: [unmatched], exceptionsDir: EXCEPTIONS, print: (t) => (printed += t) });
    await expect(synthesize([loadEnvironment("dev")], { outdir: tmp(), extensions: [given] })).rejects.toThrow("lanic-ca synth: refused by the CP/CPS policy: dev (1 error)");
    expect(printed).toContain("exception LCA-NET-03 no-such-finding matches no finding");
  });
});

describe("lanic-ca check", () => {
  const run = async (args: string[]) => {
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
      out += String(c);
      return true;
    });
    try {
      await buildProgram().parseAsync(args, { from: "user" });
      return { out, error: undefined as Error | undefined };
    } catch (e) {
      return { out, error: e as Error };
    } finally {
      spy.mockRestore();
    }
  };
  it("checks the named environments and succeeds when they pass", async () => {
    const r = await run(["check", "pilot", "--now", "2026-11-22", "--exceptions", EXCEPTIONS]);
    expect(r.error).toBeUndefined();
    const na = CATALOG.filter((c) => (c.rootOfTrust && !c.rootOfTrust.includes("external")) || c.requires === "tsa").length; // the offline-root controls, and the TSA's (the pilot runs none)
    expect(r.out).toContain(`✔ pilot (production, external root): ${CATALOG.length - na} passed, 0 failed, 0 excepted, ${na} not applicable — 0 error(s), 0 warning(s)`);
  });
  it("fails (exit 1) when an exception has expired, in the requested format", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lanic-policy-exc-"));
    writeFileSync(
      join(dir, "dev.yaml"),
      'exceptions:\n  - control: LCA-WKL-02\n    finding: "LCA-WKL-02:component:lab/repository"\n    reason: Dev images are built locally and tagged, not pinned by digest.\n    approvedBy: security-officer\n    ticket: "#4"\n    expires: 2027-05-01\n',
    );
    const r = await run(["check", "dev", "--now", "2027-05-02", "--exceptions", dir, "--format", "json"]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.error?.message).toBe("lanic-ca check: dev: 2 error(s)");
    const j = JSON.parse(r.out);
    expect(j.controls.find((c: { id: string }) => c.id === "LCA-EXC-01").findings.map((f: { id: string }) => f.id)).toEqual(["LCA-EXC-01:0:expired", "LCA-EXC-01:0:unmatched"]);
  });
});
