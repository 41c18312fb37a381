#!/usr/bin/env node
/**
 * Stand-alone entry of the ceremony tool, for the offline enclave's machine (which carries only
 * this and its dependencies): `node dist/scripts/ceremony/main.js ceremony <file>`. The same
 * commands are registered in the lanic-ca CLI.
 */
import { registerCeremonyCommands } from "./cli.js";
import { Command } from "commander";

const program = new Command("lanic-ca").description("LANIC CA key ceremonies");
registerCeremonyCommands(program);
await program.parseAsync(process.argv);
