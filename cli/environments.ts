/** The environments a command names, validated (environments/). */
import { ENVIRONMENT_NAMES, loadEnvironment, type Environment } from "../environments/index.js";
import { CliError } from "./errors.js";

/** The named environments (all when none), each validated; every problem of every one in one
 *  CliError. */
export function selectEnvironments(names: string[]): Environment[] {
  const errors: string[] = [];
  const envs: Environment[] = [];
  for (const n of names.length > 0 ? names : ENVIRONMENT_NAMES) {
    try {
      envs.push(loadEnvironment(n));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new CliError(errors.join("\n"));
  return envs;
}
