/**
 * The environments and exception files `lanic-ca synth` works from. The executable starts
 * reading them on the side thread before it loads cdktf (`prefetchSynthInputs`, cli/main.ts):
 * zod and yaml then load and parse there, beside cdktf's load, instead of on the main thread's
 * critical path (ADR 0055). Without a prefetch (tests, other commands) they are read here when
 * asked. No zod or yaml in this module.
 */
import { join } from "node:path";
import { unknownEnvironment } from "../environments/definitions.js";
import type { Environment } from "../environments/schema.js";
import type { ExceptionsFileContent } from "../policy/check.js";
import { onSideThread } from "../stacks/side-thread.js";
import { CliError, readEnvironments } from "./errors.js";
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
  return readEnvironments(names, (n) => {
    const r = inputs.environments[n];
    if (!r) throw new Error(unknownEnvironment(n));
    if (r.error !== undefined) throw new Error(r.error);
    return r.value;
  });
}

/** An environment's exceptions file: the prefetched one, or read now (`policy/exceptions/`). */
export async function synthExceptions(env: string): Promise<ExceptionsFileContent> {
  const r = prefetched ? (await prefetched).exceptions[env] : undefined;
  if (r?.error !== undefined) throw new CliError(r.error);
  return r ? r.value : (await import("../policy/exceptions.js")).loadExceptions(env);
}
