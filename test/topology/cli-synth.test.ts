/**
 * The compiled `lanic-ca synth`, as the README's quick start and CI run it: the same files as
 * the in-process synth, byte for byte, and its refusals told without a stack trace. `npm test`
 * builds first.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT_NAMES, loadEnvironment } from "../../environments/index.js";
import { synthesize } from "../../stacks/synth.js";
import { SYNTH_EXTENSIONS } from "../../cli/extensions.js";

const root = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "lanic-cli-synth-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe("the compiled lanic-ca synth", () => {
  let inProcess: Record<string, string>;
  beforeAll(async () => {
    await synthesize(
      ENVIRONMENT_NAMES.map((n) => loadEnvironment(n)),
      { outdir: join(work, "in-process"), extensions: SYNTH_EXTENSIONS },
    );
    inProcess = files(join(work, "in-process"));
  }, 180_000);

  // dist/bin/lanic-ca.js: what `npm start`, the package's bin and CI run.
  it("writes exactly what the in-process synth writes", () => {
    const out = join(work, "cli");
    const cli = spawnSync(process.execPath, [join(root, "dist/bin/lanic-ca.js"), "synth", "--out", out], { cwd: root, encoding: "utf8", timeout: 120_000 });
    expect(cli.stderr).not.toMatch(/lanic-ca:|Error/);
    expect(cli.status).toBe(0);
    const a = files(out);
    expect(Object.keys(a).filter((f) => f.startsWith("diagrams/") || f.startsWith("ceremonies/")).length).toBeGreaterThan(8);
    expect(Object.keys(a).sort()).toEqual(Object.keys(inProcess).sort());
    for (const f of Object.keys(a)) expect(a[f], f).toBe(inProcess[f]);
  }, 180_000);
});

describe("the compiled synth's refusals", () => {
  const bin = join(root, "dist/bin/lanic-ca.js");
  const run = (args: string[], cwd = root) => spawnSync(process.execPath, [bin, "synth", ...args], { cwd, encoding: "utf8", timeout: 120_000 });

  it("names an unknown environment beside a known one, exits 1 and writes nothing", () => {
    const out = join(work, "unknown");
    const r = run(["prod", "dev", "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown environment 'prod'; defined: dev, staging, production, pilot");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an invalid exceptions file with its path and field, no stack trace, and writes no stack", () => {
    const cwd = join(work, "bad-exceptions");
    mkdirSync(join(cwd, "policy/exceptions"), { recursive: true });
    writeFileSync(join(cwd, "policy/exceptions/dev.yaml"), "exceptions:\n  - control: NET-3\n");
    const r = run(["dev", "--out", "out"], cwd);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(cwd, "policy/exceptions/dev.yaml")}: invalid exceptions file:`);
    expect(r.stderr).toMatch(/exceptions\.0\.control: a control id, e\.g\. LCA-NET-03/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, "out/stacks/dev-lab"))).toBe(false);
    // `lanic-ca check` reads the same file, and says the same.
    const check = spawnSync(process.execPath, [bin, "check", "dev"], { cwd, encoding: "utf8", timeout: 120_000 });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain("policy/exceptions/dev.yaml: invalid exceptions file:");
    expect(check.stderr).not.toMatch(/\n\s+at /);
  });
});
