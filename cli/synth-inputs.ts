/**
 * The environments and exception files `lanic-ca synth` works from. The executable starts
 * reading them on the side thread before it loads cdktf (`prefetchSynthInputs`, cli/main.ts):
 * zod and yaml then load and parse there, beside cdktf's load, instead of on the main thread's
 * critical path (ADR 0055). Without a prefetch (tests, other commands) they are read here when
 * asked. No zod or yaml in this module.
 */
import { join } from "node:path";
import { ENVIRONMENT_NAMES } from "../environments/definitions.js";
import type { Environment } from "../environments/schema.js";
import type { ExceptionsFileContent } from "../policy/check.js";
import { onSideThread } from "../stacks/side-thread.js";
import { CliError } from "./errors.js";
import type { SynthInputs } from "./read-inputs.js";
import { READ_INPUTS_MODULE } from "./side-modules.js";

let prefetched: Promise<SynthInputs> | undefined;

/** Starts reading every shipped environment and exceptions file on the side thread. For the
 *  executable: the files as they are at the start of the one command the process runs. */
export function prefetchSynthInputs(): void {
  const dir = join(process.cwd(), "policy", "exceptions");
  prefetched = onSideThread<SynthInputs>({
    module: READ_INPUTS_MODULE,
    fn: "readSynthInputs",
    args: [dir],
    inline: async () => (await import("./read-inputs.js")).readSynthInputs(dir),
  });
  prefetched.catch(() => undefined); // reported where it is used
}

/** The named environments (all when none), validated; every problem of every one in one error
 *  (the same messages as `selectEnvironments`, which reads them when nothing was prefetched). */
export async function synthEnvironments(names: string[]): Promise<Environment[]> {
  if (!prefetched) return (await import("./environments.js")).selectEnvironments(names);
  const inputs = await prefetched;
  const chosen = names.length > 0 ? names : ENVIRONMENT_NAMES;
  const errors: string[] = [];
  const envs: Environment[] = [];
  for (const n of chosen) {
    const r = inputs.environments[n];
    if (!r) errors.push(`unknown environment '${n}'; defined: ${ENVIRONMENT_NAMES.join(", ")}`);
    else if (r.error !== undefined) errors.push(r.error);
    else envs.push(r.value);
  }
  if (errors.length > 0) throw new CliError(errors.join("\n"));
  return envs;
}

/** An environment's exceptions file: the prefetched one, or read now (`policy/exceptions/`). A
 *  file that does not parse is the user's to fix: its message alone, no stack trace. */
export async function synthExceptions(env: string): Promise<ExceptionsFileContent> {
  const r = prefetched ? (await prefetched).exceptions[env] : undefined;
  if (r?.error !== undefined) throw new CliError(r.error);
  if (r) return r.value;
  const { loadExceptions, ExceptionsError } = await import("../policy/exceptions.js");
  try {
    return loadExceptions(env);
  } catch (e) {
    throw e instanceof ExceptionsError ? new CliError(e.message) : e;
  }
}
