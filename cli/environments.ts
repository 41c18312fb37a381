/**
 * The environments a command names, validated (zod): imported when a command runs, so the
 * `lanic-ca` main thread loads zod only for commands that parse here (synth parses on the side
 * thread, cli/synth-inputs.ts).
 */
import "./zod-jitless.js";
import { ENVIRONMENT_NAMES, loadEnvironment } from "../environments/index.js";
import { CliError } from "./errors.js";

export function selectEnvironments(names: string[]) {
  const chosen = names.length > 0 ? names : ENVIRONMENT_NAMES;
  const errors: string[] = [];
  const envs = [];
  for (const n of chosen) {
    try {
      envs.push(loadEnvironment(n));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new CliError(errors.join("\n"));
  return envs;
}
