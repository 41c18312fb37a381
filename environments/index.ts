/** The shipped environments, by name. Add a new one in definitions.ts (see README "Adding an environment"). */
import { DEFINITIONS, ENVIRONMENT_NAMES, unknownEnvironment } from "./definitions.js";
import { parseEnvironment } from "./load.js";
import type { Environment } from "./schema.js";

export { ENVIRONMENT_NAMES };

/** Loads and validates a shipped environment by name. */
export function loadEnvironment(name: string): Environment {
  const def = DEFINITIONS[name];
  if (!def) throw new Error(unknownEnvironment(name));
  return parseEnvironment(structuredClone(def), `environments/${name}.ts`);
}

export { parseEnvironment, EnvironmentError } from "./load.js";
export * from "./schema.js";
