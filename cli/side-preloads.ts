/**
 * What synth's side thread loads before its first task (stacks/side-thread.ts): the modules of
 * the extensions that draw or render there (cli/extensions.ts). URLs only: importing this module
 * loads nothing else, so the executable can start the side thread before loading cdktf.
 */
export const SYNTH_SIDE_PRELOADS: { module: URL; fn?: string }[] = [
  { module: new URL("../review/diagram.js", import.meta.url), fn: "prepareSynthDiagrams" }, // Graphviz WASM (diagrams)
  { module: new URL("../scripts/ceremony/render.js", import.meta.url) }, // ceremony files
];
