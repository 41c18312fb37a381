import { ENVIRONMENT_NAMES } from "../environments/definitions.js";

/** An error whose message is the whole story (printed without a stack trace, exit 1). */
export class CliError extends Error {}

/** The named environments (all when none), each read by `read`; every problem of every one in
 *  one CliError. */
export function readEnvironments<E>(names: string[], read: (name: string) => E): E[] {
  const errors: string[] = [];
  const envs: E[] = [];
  for (const n of names.length > 0 ? names : ENVIRONMENT_NAMES) {
    try {
      envs.push(read(n));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new CliError(errors.join("\n"));
  return envs;
}
