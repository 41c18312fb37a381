/**
 * Checks one built topology against the catalog with its exceptions given (already read): the
 * synth gate (policy/extension.ts) and `checkTopology` (policy/index.ts) read them first.
 */
import { relative } from "node:path";
import type { CaTopology } from "../stacks/ca-topology.js";
import type { PolicyException } from "./exceptions.js";
import { SynthesizedResources } from "./resources.js";
import { evaluate } from "./run.js";
import type { PolicyResult } from "./types.js";

/** An environment's exceptions and the file they came from (evidence in the reports). */
export interface ExceptionsFileContent {
  readonly exceptions: PolicyException[];
  readonly source: string;
}

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

/** `options.exceptions` as the file they stand for (tests give exceptions directly). */
export function givenExceptions(env: string, options: CheckOptions): ExceptionsFileContent | undefined {
  return options.exceptions ? { exceptions: options.exceptions, source: `policy/exceptions/${env}.yaml` } : undefined;
}

/** Checks one built topology against the catalog, with the exceptions of `file` applied. */
export function checkWithExceptions(t: CaTopology, file: ExceptionsFileContent, options: CheckOptions = {}): PolicyResult {
  return evaluate(t.model.toJSON(), {
    resources: options.resources ?? SynthesizedResources.fromTopology(t, { shareWithSynth: options.shareWithSynth }),
    now: options.now,
    exceptions: file.exceptions,
    exceptionsSource: relative(process.cwd(), file.source) || file.source,
    outputs: outputsOf(t),
  });
}
