/**
 * What other parts of the project plug into the `lanic-ca` command: subcommands and synth
 * steps. Add one line per feature; keep each feature's code in its own folder. The features get
 * what they need from the CLI here (`CONTEXT`) rather than importing cli/ (docs/adr/0057).
 */
import type { Command } from "commander";
import { policyExtension, registerPolicyCommands } from "../policy/extension.js";
import { diagramExtension, registerReviewCommands } from "../review/cli.js";
import { registerCeremonyCommands } from "../scripts/ceremony/cli.js";
import { ceremonyExtension } from "../scripts/ceremony/extension.js";
import { registerContinuityCommands } from "../scripts/continuity/failover.js";
import { registerLabCommands } from "../scripts/lab/cli.js";
import type { SynthExtension } from "../stacks/synth.js";
import { selectEnvironments } from "./environments.js";

/** Run by every `lanic-ca synth`, in order. The CP/CPS gate runs before anything is written. */
export const SYNTH_EXTENSIONS: SynthExtension[] = [
  diagramExtension(), // diagrams/<env>.svg
  policyExtension(), // the CP/CPS gate; policy/<env>.{md,json,sarif,junit.xml}, policy/traceability.md
  ceremonyExtension(), // ceremonies/<env>/*.yaml from the same environment definition
];

/** What the features' commands receive from the CLI. */
export const CONTEXT = { selectEnvironments, synthExtensions: SYNTH_EXTENSIONS };

/** Each registers one or more subcommands on the program. */
export const COMMANDS: ((program: Command) => void)[] = [
  (program) => registerReviewCommands(program, CONTEXT), // lanic-ca diff, lanic-ca diagram
  registerCeremonyCommands, // lanic-ca ceremony <file> | split | verify-transcript
  (program) => registerPolicyCommands(program, CONTEXT), // lanic-ca check [env…]
  registerLabCommands, // lanic-ca lab up|down|status (LAB ONLY, ADR 0065)
  registerContinuityCommands, // lanic-ca failover <env> --to <site> (docs/runbooks/failover.md)
];
