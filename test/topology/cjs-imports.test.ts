/**
 * GIVEN the modules `lanic-ca synth` loads (followed from the program and the side thread's modules)
 * WHEN one of them imports a value from a CommonJS package with an ES `import`
 * THEN Node runs its export lexer over that package's source before compiling it — for cdktf and
 * the provider a second pass over ≈ 12.5 MB, a fifth of a synth (ADR 0053). Such values are
 * loaded with `require` (constructs/cdktf.ts, or `createRequire` in the module); `import type` is
 * erased and allowed.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { LANIC_CA_ROOTS, loadedWith, root, STATIC_IMPORT } from "./module-graph.js";


/** Bare specifiers imported as values (static `import … from`, `export … from`, `import(…)`). */
function valueImports(text: string): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  const lineOf = (i: number) => text.slice(0, i).split("\n").length;
  const bare = (s: string) => !s.startsWith(".") && !s.startsWith("node:") && !s.startsWith("/");
  for (const m of text.matchAll(STATIC_IMPORT)) if (bare(m[1])) out.push({ specifier: m[1], line: lineOf(m.index) });
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    // `typeof import("m")`, `x: import("m").T`, `type T = import("m").T`: type positions, erased.
    const before = text.slice(text.lastIndexOf("\n", m.index) + 1, m.index);
    if (/(typeof|:|<|\|)\s*$/.test(before) || /^\s*(export\s+)?type\s+\w+(<[^>]*>)?\s*=\s*$/.test(before)) continue;
    if (bare(m[1])) out.push({ specifier: m[1], line: lineOf(m.index) });
  }
  return out;
}

/** For each bare specifier: does an ES import of it (from the project root) reach a CommonJS file? */
function commonJs(specifiers: string[]): Map<string, boolean> {
  const script = `
    import { readFileSync, existsSync } from "node:fs"; import { dirname, join } from "node:path"; import { fileURLToPath } from "node:url";
    const out = {};
    for (const s of ${JSON.stringify(specifiers)}) {
      const url = import.meta.resolve(s);
      if (!url.startsWith("file:")) { out[s] = false; continue; }
      const file = fileURLToPath(url);
      if (file.endsWith(".mjs")) out[s] = false; else if (file.endsWith(".cjs")) out[s] = true;
      else { let d = dirname(file); while (!existsSync(join(d, "package.json"))) d = dirname(d);
        out[s] = JSON.parse(readFileSync(join(d, "package.json"), "utf8")).type !== "module"; }
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`resolving ${specifiers.join(", ")}: ${r.stderr}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, boolean>));
}

function violations(files: string[]): string[] {
  const found = files.flatMap((f) => valueImports(readFileSync(f, "utf8")).map((i) => ({ file: relative(root, f), ...i })));
  const cjs = commonJs([...new Set(found.map((i) => i.specifier))]);
  return found.filter((i) => cjs.get(i.specifier)).map((i) => `${i.file}:${i.line}: value import of CommonJS "${i.specifier}" (load it with require: constructs/cdktf.ts, ADR 0053)`);
}

describe("CommonJS packages are loaded with require, not ES import", () => {
  it("finds value imports, and only those", () => {
    const text = [
      `import { A } from "cdktf";`,
      `import type { B } from "cdktf";`,
      `import pc from "picocolors";`,
      `import {\n  C,\n  D,\n} from "yaml";`,
      `export { E } from "constructs";`,
      `export type { F } from "constructs";`,
      `import { G } from "./local.js";`,
      `import { H } from "node:fs";`,
      `const m = await import("commander");`,
      `type T = typeof import("commander");`,
      `let x: import("yaml").Document;`,
      `type U = import("yaml").Document;`,
    ].join("\n");
    expect(valueImports(text)).toEqual([
      { specifier: "cdktf", line: 1 },
      { specifier: "picocolors", line: 3 },
      { specifier: "yaml", line: 4 },
      { specifier: "constructs", line: 8 },
      { specifier: "commander", line: 12 },
    ]);
  });

  it("flags the fixture that imports cdktf, the provider and yaml as ES modules, and not zod (ESM)", () => {
    const fixture = join(root, "test/fixtures/cjs-imports/esm-import-of-cjs.ts");
    expect(violations([fixture])).toEqual([
      `test/fixtures/cjs-imports/esm-import-of-cjs.ts:3: value import of CommonJS "cdktf" (load it with require: constructs/cdktf.ts, ADR 0053)`,
      `test/fixtures/cjs-imports/esm-import-of-cjs.ts:4: value import of CommonJS "@cdktf/provider-kubernetes/lib/deployment-v1/index.js" (load it with require: constructs/cdktf.ts, ADR 0053)`,
      `test/fixtures/cjs-imports/esm-import-of-cjs.ts:5: value import of CommonJS "yaml" (load it with require: constructs/cdktf.ts, ADR 0053)`,
    ]);
  });

  it("holds for every module `lanic-ca synth` loads", () => {
    const files = loadedWith(LANIC_CA_ROOTS);
    // The synth path reaches the constructs, the stack, the policy gate and its reports.
    for (const f of ["constructs/cdktf.ts", "constructs/hardened-workload.ts", "policy/exceptions.ts", "cli/extensions.ts"]) expect(files).toContain(join(root, f));
    expect(violations(files)).toEqual([]);
  });

  it("constructs/cdktf.ts hands out the very classes an ES import gives (one module cache)", async () => {
    const ours = await import("../../constructs/cdktf.js");
    const cdktf = await import("cdktf");
    const constructs = await import("constructs");
    const deployment = await import("@cdktf/provider-kubernetes/lib/deployment-v1/index.js");
    expect(ours.TerraformStack).toBe(cdktf.TerraformStack);
    expect(ours.App).toBe(cdktf.App);
    expect(ours.Token).toBe(cdktf.Token);
    expect(ours.Construct).toBe(constructs.Construct);
    expect(ours.DeploymentV1).toBe(deployment.DeploymentV1);
  });
});
