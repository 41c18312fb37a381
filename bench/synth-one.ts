/** A fresh-process synth of one environment, shipped or generated, as `lanic-ca synth` runs it
 *  (the same extensions): `node dist/bench/synth-one.js <production|gen:SITES:CAS> <outdir>`
 *  (used by bench/synth.ts). */
import { SYNTH_EXTENSIONS } from "../cli/extensions.js";
import { loadEnvironment, parseEnvironment } from "../environments/index.js";
import { synthesize } from "../stacks/synth.js";
import { generateEnvironment } from "./generate.js";

const [spec, outdir] = process.argv.slice(2);
const env = spec.startsWith("gen:")
  ? (() => {
      const [, sites, cas] = spec.split(":").map(Number);
      return parseEnvironment(generateEnvironment({ sites, issuingCas: cas, name: "production" }), `generated ${spec}`);
    })()
  : loadEnvironment(spec);
await synthesize([env], { outdir, extensions: SYNTH_EXTENSIONS });
