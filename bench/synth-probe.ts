/** Helper of bench/synth.ts: `node dist/bench/synth-probe.js <floor-script> [side]` imports the
 *  floor's modules, with synth's side thread loading its modules meanwhile when `side` is given
 *  (as `lanic-ca synth` does), and prints the import time in ms. */
import { pathToFileURL } from "node:url";
import { startSideThread } from "../stacks/side-thread.js";
import { SYNTH_SIDE_PRELOADS } from "../cli/side-preloads.js";

const [floor, mode] = process.argv.slice(2);
if (mode === "side") startSideThread(SYNTH_SIDE_PRELOADS);
const t0 = performance.now();
await import(pathToFileURL(floor).href);
console.log((performance.now() - t0).toFixed(1));
