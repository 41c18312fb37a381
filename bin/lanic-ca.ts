#!/usr/bin/env node
/** The package's `lanic-ca` executable (package.json "bin"); the entry is cli/main.ts. */
import "../cli/main.js";
