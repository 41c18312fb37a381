/**
 * What other parts of the project plug into the `lanic-ca` command: subcommands and synth
 * steps. Add one line per feature; keep each feature's code in its own folder.
 */
import type { Command } from "commander";
import type { SynthExtension } from "../stacks/synth.js";

/** Each registers one or more subcommands on the program. */
export const COMMANDS: ((program: Command) => void)[] = [];

/** Run by every `lanic-ca synth`, in order. */
export const SYNTH_EXTENSIONS: SynthExtension[] = [];

import { diagramExtension, registerReviewCommands } from "../review/cli.js";
const diagrams = diagramExtension(); // diagrams/<env>.svg (issue 6); drawn on the side thread while the gate resolves the stacks
COMMANDS.push(registerReviewCommands); // lanic-ca diff, lanic-ca diagram (issue 6)

import { registerCeremonyCommands } from "../scripts/ceremony/cli.js";
import { ceremonyExtension } from "../scripts/ceremony/extension.js";
COMMANDS.push(registerCeremonyCommands); // lanic-ca ceremony <file> | split | verify-transcript (issue 5)
SYNTH_EXTENSIONS.push(ceremonyExtension()); // cdktf.out/ceremonies/<env>/*.yaml from the same environment (issue 5), on the side thread

import { policyExtension, registerPolicyCommands } from "../policy/extension.js";
import { synthExceptions } from "./synth-inputs.js";
// The CP/CPS gate runs first: refuses before anything is written (issue 4). Exceptions as read
// with the environments (on the side thread, ADR 0055).
SYNTH_EXTENSIONS.unshift(policyExtension({ exceptionsFor: synthExceptions }));
COMMANDS.push(registerPolicyCommands); // lanic-ca check [env…] (issue 4)

SYNTH_EXTENSIONS.unshift(diagrams);

import { registerLabCommands } from "../scripts/lab/cli.js";
COMMANDS.push(registerLabCommands); // lanic-ca lab up|down|status (LAB ONLY, ADR 0065)

import { registerContinuityCommands } from "../scripts/continuity/failover.js";
COMMANDS.push(registerContinuityCommands); // lanic-ca failover <env> --to <site> (docs/runbooks/failover.md)
