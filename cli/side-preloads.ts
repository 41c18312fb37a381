/**
 * What synth's side thread loads before its first task (stacks/side-thread.ts): the modules of
 * the extensions that draw or render there (cli/extensions.ts). URLs only: importing this module
 * loads nothing else, so the executable can start the side thread before loading cdktf.
 */
import { DIAGRAM_MODULE } from "../review/side-modules.js";
import { RENDER_MODULE } from "../scripts/ceremony/side-modules.js";

export const SYNTH_SIDE_PRELOADS: { module: URL; fn?: string }[] = [
  { module: DIAGRAM_MODULE, fn: "prepareSynthDiagrams" }, // Graphviz WASM (diagrams)
  { module: RENDER_MODULE }, // ceremony files
];
