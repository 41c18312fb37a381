/**
 * GIVEN the `lanic-ca` executable and program (cli/main.ts, cli/program.ts: the main thread of a
 * synth until it builds the construct tree)
 * WHEN their static imports are followed
 * THEN they reach neither zod nor yaml, nor the modules that parse with them: synth reads and
 * validates the environments and exception files on the side thread while this thread loads
 * cdktf (ADR 0055). A value import of one of them anywhere on this path would load it here again,
 * silently (synth still works, ≈ 120 ms slower).
 */
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { loadedWith, packagesLoadedBy, root } from "./module-graph.js";

/** Packages and modules the main thread must not load (the side thread does). */
const SIDE_ONLY_PACKAGES = ["zod", "yaml", "@lanic-ca/pki-services/config/schema"];
const SIDE_ONLY_MODULES = ["environments/load.ts", "environments/schema.ts", "policy/exceptions.ts", "scripts/ceremony/schema.ts", "cli/read-inputs.ts"];

function sideOnlyLoads(roots: string[], base = root): string[] {
  const files = loadedWith(roots, base);
  return [
    ...files.filter((f) => SIDE_ONLY_MODULES.includes(relative(base, f))).map((f) => `${relative(base, f)} (module)`),
    ...files.flatMap((f) => packagesLoadedBy(f).filter((p) => SIDE_ONLY_PACKAGES.includes(p)).map((p) => `${relative(base, f)} loads ${p}`)),
  ].sort();
}

describe("the main thread of lanic-ca synth loads no zod or yaml", () => {
  it("sees a static import of zod two modules down and a top-level require of yaml, not a require inside a function or a type import", () => {
    const fixture = join(root, "test/fixtures/main-thread");
    expect(sideOnlyLoads(["main.ts"], fixture)).toEqual(["environments.ts loads zod", "reader.ts loads yaml"]);
  });

  it("holds for cli/main.ts and cli/program.ts", () => {
    const files = loadedWith(["cli/main.ts", "cli/program.ts"]).map((f) => relative(root, f));
    // The path does reach the constructs, the stack, the gate and the side-thread plumbing.
    for (const f of ["constructs/cdktf.ts", "policy/check.ts", "policy/extension.ts", "cli/synth-inputs.ts", "stacks/side-thread.ts"]) expect(files).toContain(f);
    expect(sideOnlyLoads(["cli/main.ts", "cli/program.ts"])).toEqual([]);
  });

  it("while the side thread's module for the inputs does load them", () => {
    expect(sideOnlyLoads(["cli/read-inputs.ts"])).toEqual(
      expect.arrayContaining(["environments/load.ts (module)", "policy/exceptions.ts (module)", "environments/load.ts loads zod", "policy/exceptions.ts loads yaml"]),
    );
  });
});
