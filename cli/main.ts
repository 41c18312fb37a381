#!/usr/bin/env node
/**
 * `lanic-ca`, the executable (the program is cli/program.ts). For `synth`, the side thread
 * (stacks/side-thread.ts) is started before the program loads: while this thread loads cdktf
 * and the provider (the larger part of a synth's time), the side thread loads Graphviz's WASM
 * and the ceremony renderer, so the diagrams and ceremony files are ready when the stacks are
 * (bench/synth.ts).
 */
import { startSideThread } from "../stacks/side-thread.js";
import { SYNTH_SIDE_PRELOADS } from "./side-preloads.js";

if (process.argv[2] === "synth") {
  startSideThread(SYNTH_SIDE_PRELOADS);
}
const { main } = await import("./program.js");
process.exit(await main(process.argv.slice(2)));
