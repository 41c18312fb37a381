#!/usr/bin/env node
/**
 * `lanic-ca`, the executable (the program is cli/program.ts). For `synth`, the side thread
 * (stacks/side-thread.ts) is started before the program loads: while this thread loads cdktf
 * and the provider (the larger part of a synth's time), the side thread loads Graphviz's WASM
 * and the ceremony renderer, so the diagrams and ceremony files are ready when the stacks are
 * (bench/synth.ts). Before those, the side thread reads and validates the environments and
 * exception files (zod, yaml: cli/synth-inputs.ts), so the main thread never loads them.
 */
import { startSideThread } from "../stacks/side-thread.js";
import { SYNTH_SIDE_PRELOADS } from "./side-preloads.js";
import { prefetchSynthInputs } from "./synth-inputs.js";

if (process.argv[2] === "synth") {
  prefetchSynthInputs(); // first: the environments are what the main thread waits for (ADR 0055)
  startSideThread(SYNTH_SIDE_PRELOADS);
}
const { main } = await import("./program.js");
process.exit(await main(process.argv.slice(2)));
