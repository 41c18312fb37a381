/**
 * Our modules as `node` loads them, read from the TypeScript sources: the static value imports
 * followed from some roots (a `.js` specifier is its `.ts` source; `import type` and `import()`
 * are not followed: erased, or loaded only when run). Used by the tests of what the `lanic-ca`
 * threads load (ADR 0053, 0055).
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ENTRIES } from "../../scripts/bundle.js";

export const root = resolve(import.meta.dirname, "../..");

/** Where `lanic-ca` starts: the bundle's entries (the executable and the side thread's modules)
 *  and the program the executable imports. */
export const LANIC_CA_ROOTS = [...Object.values(ENTRIES).map((js) => js.replace(/\.js$/, ".ts")), "cli/program.ts"];

/** `import x, { y } from "m"`, `import "m"`, `export { x } from "m"` — not `import type …`/`export type …`. */
export const STATIC_IMPORT = /^\s*(?:import|export)(?!\s+type[\s{])(?:\s[^;]*?\sfrom)?\s*["']([^"']+)["']/gms;
/** `const x = createRequire(import.meta.url)("x")` (or `require("x")`, or a destructuring) at the
 *  top level (not indented): run when the module loads. One inside a function is loaded when it
 *  runs. */
const TOP_LEVEL_REQUIRE = /^(?:export\s+)?(?:const|let|var)\s+(?:\{[^}]*\}|\w+)\s*=\s*(?:createRequire\(import\.meta\.url\)|require)\(\s*["']([^"'.][^"']*)["']\s*\)/gm;

/** Our files loaded with `roots` (paths relative to `base`). */
export function loadedWith(roots: string[], base = root): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      if (m[1].startsWith(".")) visit(resolve(dirname(file), m[1].replace(/\.js$/, ".ts")));
    }
  };
  for (const r of roots) visit(join(base, r));
  return [...seen];
}

/** The packages a module loads when it is loaded: static value imports and top-level requires. */
export function packagesLoadedBy(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const bare = (s: string) => !s.startsWith(".") && !s.startsWith("/") && !s.startsWith("node:");
  return [...new Set([...text.matchAll(STATIC_IMPORT), ...text.matchAll(TOP_LEVEL_REQUIRE)].map((m) => m[1]).filter(bare))];
}
