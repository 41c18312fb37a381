/** A fresh-process synth of one environment, shipped or generated, as `lanic-ca synth` runs it
 *  (side thread started first, same extensions): `node dist/bench/synth-one.js
 *  <production|gen:SITES:CAS> <outdir>` (used by bench/synth.ts). */
import { startSideThread } from "../stacks/side-thread.js";
import { SYNTH_SIDE_PRELOADS } from "../cli/side-preloads.js";

startSideThread(SYNTH_SIDE_PRELOADS);
const [{ parseEnvironment }, { loadEnvironment }, { synthesize }, { SYNTH_EXTENSIONS }, { generateEnvironment }, { config }] = await Promise.all([
  import("../environments/load.js"),
  import("../environments/index.js"),
  import("../stacks/synth.js"),
  import("../cli/extensions.js"),
  import("./generate.js"),
  import("zod"),
]);
config({ jitless: true }); // as cli/program.ts

const [spec, outdir] = process.argv.slice(2);
const env = spec.startsWith("gen:")
  ? (() => {
      const [, sites, cas] = spec.split(":").map(Number);
      return parseEnvironment(generateEnvironment({ sites, issuingCas: cas, name: "production" }), `generated ${spec}`);
    })()
  : loadEnvironment(spec);
await synthesize([env], { outdir, extensions: SYNTH_EXTENSIONS });
