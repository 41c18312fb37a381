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
