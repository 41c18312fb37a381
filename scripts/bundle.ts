/**
 * Bundles the compiled `lanic-ca` (dist/, from `tsc -b`) into dist/bin/ (ADR 0054): the
 * executable and the side thread's modules as entries, shared code in chunks loaded when first
 * needed (so a command that does not need the review or ceremony code does not load it). On
 * Node 20 every ES module file costs the loader a resolve, a read and a link; the synth path
 * loads ≈ 80 of ours and zod's ≈ 95, on both threads. Bundled, synth of the four environments
 * takes ≈ 140 ms less (bench/synth.ts).
 *
 * What is bundled: our code, the pki-services workspace and zod (ESM, the one package of many
 * files on the synth path). Every other package stays in node_modules, resolved from dist/bin/
 * as from dist/: the CommonJS ones are loaded with `require` (ADR 0053), the others only by
 * commands other than synth, and a polyfill such as reflect-metadata must stay one copy.
 *
 * Side-thread modules are named by `new URL("./<file>.js", import.meta.url)` beside the file
 * (review/side-modules.ts): each is an entry named `<file>` here, so the URL is right in dist/
 * and in dist/bin/ alike. `LANIC_CA_TRACE=1` prints where they load from; a test checks that
 * the bundled synth loads them from dist/bin/ (test/topology/cli-synth.test.ts).
 *
 * `node dist/scripts/bundle.js` (the `build` script runs it after `tsc -b`).
 */
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

const root = resolve(import.meta.dirname, "../..");
const dist = join(root, "dist");

/** Output name → compiled module. The side-thread ones keep their file's name (see above). */
export const ENTRIES: Record<string, string> = {
  "lanic-ca": "cli/main.js",
  "side-worker": "stacks/side-worker.js",
  diagram: "review/diagram.js", // review/side-modules.ts DIAGRAM_MODULE
  render: "scripts/ceremony/render.js", // scripts/ceremony/side-modules.ts RENDER_MODULE
  "read-inputs": "cli/read-inputs.js", // cli/side-modules.ts READ_INPUTS_MODULE
  "lab-issuing-zone": "scripts/lab/lab-issuing-zone.js", // spawned by scripts/lab/lab.ts beside itself
};

/** The packages bundled (with our code); every other bare import stays in node_modules. */
export const BUNDLED_PACKAGES = ["zod", "@lanic-ca/pki-services"];

const bundled = (specifier: string) => BUNDLED_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`));

/** Marks every bare import outside BUNDLED_PACKAGES (and every `node:` builtin) external. */
const keepPackagesExternal: Plugin = {
  name: "keep-packages-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (bundled(a.path) ? undefined : { path: a.path, external: true }));
  },
};

export async function bundle(outdir = join(dist, "bin")): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, join(dist, file)])),
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunk-[hash]",
    plugins: [keepPackagesExternal],
    logLevel: "warning",
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, "bundle.js")) {
  await bundle();
}
