#!/usr/bin/env node
/** `lanic-ca`, the executable: runs the program (cli/program.ts) and exits with its code. */
import { main } from "./program.js";

process.exit(await main(process.argv.slice(2)));
