/** The CP/CPS policy: catalog, evaluation, reports, the synth gate and `lanic-ca check`. */
import { relative } from "node:path";
import type { CaTopology } from "../constructs/ca-topology.js";
import { loadExceptions, type PolicyException } from "./exceptions.js";
import { SynthesizedResources } from "./resources.js";
import { evaluate } from "./run.js";
import type { PolicyResult } from "./types.js";

export { CATALOG } from "./catalog.js";
export { evaluate, refuses } from "./run.js";
export { SynthesizedResources } from "./resources.js";
export { loadExceptions, parseExceptions, ExceptionsError } from "./exceptions.js";
export type * from "./types.js";

export interface CheckOptions {
  /** @default new Date() */
  readonly now?: Date;
  /** Folder of `<env>.yaml` exception files. @default "<cwd>/policy/exceptions" */
  readonly exceptionsDir?: string;
  /** Exceptions given directly (tests); replaces the file. */
  readonly exceptions?: PolicyException[];
  /** Synthesized stacks, if already computed. @default the topology's stacks, in memory */
  readonly resources?: SynthesizedResources;
  /** Let `app.synth()` reuse the Terraform JSON the checks computed (the synth gate). @default false */
  readonly shareWithSynth?: boolean;
}

/** The output files of an environment (evidence in the reports). */
export function outputsOf(t: CaTopology): string[] {
  const env = t.env.name;
  return [...t.stacks.map((s) => `stacks/${s.node.id}/cdk.tf.json`), `topology/${env}.json`];
}

/** Checks one built topology against the catalog, with its exceptions applied. */
export function checkTopology(t: CaTopology, options: CheckOptions = {}): PolicyResult {
  const file = options.exceptions ? { exceptions: options.exceptions, source: `policy/exceptions/${t.env.name}.yaml` } : loadExceptions(t.env.name, options.exceptionsDir);
  return evaluate(t.model.toJSON(), {
    resources: options.resources ?? SynthesizedResources.fromTopology(t, { shareWithSynth: options.shareWithSynth }),
    now: options.now,
    exceptions: file.exceptions,
    exceptionsSource: relative(process.cwd(), file.source) || file.source,
    outputs: outputsOf(t),
  });
}
