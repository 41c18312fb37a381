/** The shipped environments, by name. Add a new one here (see README "Adding an environment"). */
import { parseEnvironment } from "./load.js";
import type { Environment, EnvironmentInput } from "./schema.js";
import dev from "./dev.js";
import staging from "./staging.js";
import production from "./production.js";
import pilot from "./pilot.js";

const DEFINITIONS: Record<string, EnvironmentInput> = { dev, staging, production, pilot };

export const ENVIRONMENT_NAMES = Object.keys(DEFINITIONS);

/** Loads and validates a shipped environment by name. */
export function loadEnvironment(name: string): Environment {
  const def = DEFINITIONS[name];
  if (!def) throw new Error(`unknown environment '${name}'; defined: ${ENVIRONMENT_NAMES.join(", ")}`);
  return parseEnvironment(structuredClone(def), `environments/${name}.ts`);
}

export { parseEnvironment, EnvironmentError } from "./load.js";
export * from "./schema.js";
