/**
 * The compiled `lanic-ca synth` — the bundle the README's quick start and CI run, and the
 * compiled tree — draws diagrams and renders ceremony files on the side thread
 * (stacks/side-thread.ts); from the sources the same work runs inline. All must write the same
 * files, byte for byte. `npm test` builds first.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
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

describe("compiled synth with its side thread", () => {
  let inline: Record<string, string>;
  beforeAll(async () => {
    await synthesize(ENVIRONMENT_NAMES.map((n) => loadEnvironment(n)), { outdir: join(work, "inline"), extensions: SYNTH_EXTENSIONS });
    inline = files(join(work, "inline"));
  }, 180_000);

  // dist/bin/lanic-ca.js: the bundle (scripts/bundle.ts) that `npm start` and the package's bin
  // run. dist/cli/main.js: the compiled tree, which `lanic-ca diff` runs for a base ref.
  it.each([
    ["bundled", "dist/bin/lanic-ca.js", "dist/bin/"],
    ["compiled tree", "dist/cli/main.js", "dist/"],
  ])("%s (%s) writes exactly what the in-process synth writes, its side tasks on the side thread", (_what, main, from) => {
    const out = join(work, main.replace(/\W/g, "-"));
    const cli = spawnSync(process.execPath, [join(root, main), "synth", "--out", out], {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, LANIC_CA_TRACE: "1" },
    });
    expect(cli.stderr).not.toMatch(/lanic-ca:|Error/);
    expect(cli.status).toBe(0);
    // Every preload and task ran on the side thread from this build's own modules (a bundle
    // entry missing or misnamed would fall back to running inline, or load the other tree).
    const side = cli.stderr.split("\n").filter((l) => l.startsWith("lanic-ca side thread: ")).map((l) => l.slice("lanic-ca side thread: ".length));
    const tasks = (fn: string) => side.filter((l) => l.startsWith(`${fn} from `));
    expect(tasks("synthDiagram")).toHaveLength(4);
    expect(tasks("renderCeremonyFiles")).toHaveLength(4);
    expect(side.filter((l) => l.startsWith("preload "))).toHaveLength(2);
    expect(tasks("readSynthInputs")).toHaveLength(1); // environments and exceptions (ADR 0055)
    for (const l of side) {
      const path = l.slice(l.lastIndexOf(" ") + 1);
      expect(l, l).not.toMatch(/ inline, /);
      expect(relative(root, path).startsWith(from) && !(from === "dist/" && path.includes("/dist/bin/")), l).toBe(true);
    }
    const a = files(out);
    expect(Object.keys(a).filter((f) => f.startsWith("diagrams/") || f.startsWith("ceremonies/")).length).toBeGreaterThan(8);
    expect(Object.keys(a).sort()).toEqual(Object.keys(inline).sort());
    for (const f of Object.keys(a)) expect(a[f], f).toBe(inline[f]);
  }, 180_000);

  it.each([
    ["only started it (a synth refused before its files)", false],
    ["ran a task on it", true],
  ])("lets a process that %s end by itself (the idle thread holds nothing)", (_what, runTask) => {
    const url = (p: string) => JSON.stringify(pathToFileURL(join(root, p)).href);
    const script = `
      const { startSideThread, onSideThread } = await import(${url("dist/stacks/side-thread.js")});
      const { SYNTH_SIDE_PRELOADS } = await import(${url("dist/cli/side-preloads.js")});
      startSideThread(SYNTH_SIDE_PRELOADS);
      let n = 0;
      if (${runTask}) {
        const { loadEnvironment } = await import(${url("dist/environments/index.js")});
        n = (await onSideThread({ module: new URL(${url("dist/scripts/ceremony/render.js")}), fn: "renderCeremonyFiles", args: [loadEnvironment("dev")], inline: async () => [] })).length;
      }
      console.log(n);`;
    const file = join(work, `uses-side-thread-${runTask}.mjs`);
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 30_000 });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim()) > 3).toBe(runTask);
  });

  it("reports a failing side-thread task with the function's name and error, and the thread stays usable", async () => {
    const { onSideThread } = (await import(pathToFileURL(join(root, "dist/stacks/side-thread.js")).href)) as typeof import("../../stacks/side-thread.js");
    const render = pathToFileURL(join(root, "dist/scripts/ceremony/render.js"));
    const never = async () => {
      throw new Error("ran inline: the compiled worker was not used");
    };
    await expect(onSideThread({ module: render, fn: "renderCeremonyFiles", args: [{ name: "broken" }], inline: never })).rejects.toThrow(/^renderCeremonyFiles \(side thread\): /);
    await expect(onSideThread({ module: render, fn: "noSuchFunction", args: [], inline: never })).rejects.toThrow("exports no function noSuchFunction");
    const ok = await onSideThread<{ path: string }[]>({ module: render, fn: "renderCeremonyFiles", args: [loadEnvironment("dev")], inline: never });
    expect(ok.map((f) => f.path)).toContain("02-root-key.yaml");
    // Many tasks at once (environments × extensions): each gets its own result, no listener leak.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const names = ["dev", "staging", "production", "pilot"];
      const many = await Promise.all(
        Array.from({ length: 24 }, (_, i) => onSideThread<{ path: string }[]>({ module: render, fn: "renderCeremonyFiles", args: [loadEnvironment(names[i % 4])], inline: never })),
      );
      const { renderCeremonyFiles } = await import("../../scripts/ceremony/render.js");
      for (const [i, files] of many.entries()) expect(files).toEqual(renderCeremonyFiles(loadEnvironment(names[i % 4])));
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("the bundled synth's refusals, with the inputs read on the side thread (ADR 0055)", () => {
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
    // `lanic-ca check` reads the same file on its own thread, and says the same.
    const check = spawnSync(process.execPath, [bin, "check", "dev"], { cwd, encoding: "utf8", timeout: 120_000 });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain("policy/exceptions/dev.yaml: invalid exceptions file:");
    expect(check.stderr).not.toMatch(/\n\s+at /);
  });
});
