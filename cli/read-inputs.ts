/**
 * What `lanic-ca synth` reads before it builds anything: the shipped environment definitions,
 * validated, and each one's policy exceptions file, parsed. Run on the side thread
 * (cli/synth-inputs.ts), so zod and yaml load there while the main thread loads cdktf (ADR
 * 0055). Every environment is read, whichever were asked for: a problem is kept with its
 * environment and reported only if that one is synthesized.
 */
import "./zod-jitless.js";
import { join } from "node:path";
import { ENVIRONMENT_NAMES, loadEnvironment, type Environment } from "../environments/index.js";
import type { ExceptionsFileContent } from "../policy/check.js";
import { loadExceptions } from "../policy/exceptions.js";

/** A value, or the message of the error that reading it threw. */
export type Read<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

export interface SynthInputs {
  readonly environments: Record<string, Read<Environment>>;
  readonly exceptions: Record<string, Read<ExceptionsFileContent>>;
}

function read<T>(f: () => T): Read<T> {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Every shipped environment and its exceptions (`<exceptionsDir>/<env>.yaml`). */
export function readSynthInputs(exceptionsDir = join(process.cwd(), "policy", "exceptions")): SynthInputs {
  const environments: Record<string, Read<Environment>> = {};
  const exceptions: Record<string, Read<ExceptionsFileContent>> = {};
  for (const name of ENVIRONMENT_NAMES) {
    environments[name] = read(() => loadEnvironment(name));
    exceptions[name] = read(() => loadExceptions(name, exceptionsDir));
  }
  return { environments, exceptions };
}
