/**
 * The layers of the code base (README "Layout", docs/adr/0057): no import points back up, and no
 * module imports itself through others. From the bottom: the environment definitions, the
 * constructs, the stacks that compose them, the features (policy, review, ceremonies, lab,
 * continuity), the CLI that wires the features together, and the entry points (the executable,
 * the benchmarks). Type imports and `import()` count: each is a dependency all the same.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importCycles, moduleGraph, root, upwardImports } from "./module-graph.js";

const LAYERS: Record<string, number> = {
  environments: 0,
  constructs: 1,
  stacks: 2,
  policy: 3,
  review: 3,
  scripts: 3,
  cli: 4,
  bin: 5,
  bench: 5,
};
const DIRS = Object.keys(LAYERS);

describe("layering", () => {
  it("finds the upward imports and the cycles of a tree that has them (test/fixtures/layering)", () => {
    const graph = moduleGraph(DIRS, join(root, "test/fixtures/layering"));
    expect(upwardImports(graph, LAYERS)).toEqual(["constructs/widget.ts → stacks/site-stack.ts", "policy/check.ts → cli/environments.ts", "review/cli.ts → cli/environments.ts"]);
    expect(importCycles(graph)).toEqual([
      ["cli/environments.ts", "review/cli.ts"],
      ["constructs/widget.ts", "stacks/site-stack.ts"],
    ]);
  });

  it("the project's sources import nothing from a higher layer", () => {
    const graph = moduleGraph(DIRS);
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("stacks/synth.ts")).toContain("stacks/ca-topology.ts"); // the graph follows imports
    expect(upwardImports(graph, LAYERS)).toEqual([]);
  });

  it("the project's sources have no import cycle", () => {
    expect(importCycles(moduleGraph(DIRS))).toEqual([]);
  });
});
