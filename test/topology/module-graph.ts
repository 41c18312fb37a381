/**
 * Our modules' imports, read from the TypeScript sources: static imports and re-exports (type-only
 * ones too: a type import is still a dependency of the design), and `import("…")`, each
 * followed to its `.ts` source. Used by test/topology/layering.test.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export const root = resolve(import.meta.dirname, "../..");

/** `import x from "m"`, `import type { y } from "m"`, `import "m"`, `export { x } from "m"`. */
const STATIC_IMPORT = /^\s*(?:import|export)(?:\s[^;]*?\sfrom)?\s*["']([^"']+)["']/gms;
/** `import("m")`, also as a type (`typeof import("m")`). */
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** File (relative to the base, `/`-separated) → the files of the base it imports. */
export type ModuleGraph = Map<string, string[]>;

/** The graph of every `.ts` file under `dirs` of `base`. */
export function moduleGraph(dirs: string[], base = root): ModuleGraph {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (n === "node_modules" || n === "dist") continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".ts") && !n.endsWith(".d.ts")) files.push(p);
    }
  };
  for (const d of dirs) if (existsSync(join(base, d))) walk(join(base, d));
  const graph: ModuleGraph = new Map();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    const targets = [...text.matchAll(STATIC_IMPORT), ...text.matchAll(DYNAMIC_IMPORT)]
      .map((m) => m[1])
      .filter((s) => s.startsWith("."))
      .map((s) => resolve(dirname(f), s.replace(/\.js$/, ".ts")))
      .filter((t) => existsSync(t))
      .map((t) => relative(base, t));
    graph.set(relative(base, f), [...new Set(targets)]);
  }
  return graph;
}

/** The import cycles: each strongly connected set of two or more files (or a file importing
 *  itself), sorted (Tarjan's algorithm). */
export function importCycles(graph: ModuleGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Each import from a folder to a folder of a higher layer, as `from → to`. A file's folder is
 *  its first path segment; folders missing from `layers` are not checked. */
export function upwardImports(graph: ModuleGraph, layers: Record<string, number>): string[] {
  const layer = (f: string) => layers[f.split("/")[0]];
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const [a, b] = [layer(from), layer(to)];
      if (a !== undefined && b !== undefined && b > a) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}
