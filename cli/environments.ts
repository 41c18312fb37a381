/**
 * The environments a command names, validated (zod): imported when a command runs, so the
 * `lanic-ca` main thread loads zod only for commands that parse here (synth parses on the side
 * thread, cli/synth-inputs.ts).
 */
import "./zod-jitless.js";
import { loadEnvironment } from "../environments/index.js";
import { readEnvironments } from "./errors.js";

export function selectEnvironments(names: string[]) {
  return readEnvironments(names, loadEnvironment);
}
