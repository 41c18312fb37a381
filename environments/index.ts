/** The shipped environments, by name. Add a new one in definitions.ts (see README "Adding an environment"). */
import { DEFINITIONS, ENVIRONMENT_NAMES, unknownEnvironment } from "./definitions.js";
import { EnvironmentError, parseEnvironment } from "./load.js";
import type { Environment } from "./schema.js";

export { ENVIRONMENT_NAMES };

/** Loads and validates a shipped environment by name. */
export function loadEnvironment(name: string): Environment {
  const def = Object.hasOwn(DEFINITIONS, name) ? DEFINITIONS[name] : undefined;
  if (!def) throw new Error(unknownEnvironment(name));
  const env = parseEnvironment(structuredClone(def), `environments/${name}.ts`);
  // stacks are named after `name`: a copied definition that keeps another's name would
  // overwrite that environment's stacks
  if (env.name !== name) {
    throw new EnvironmentError(`environments/${name}.ts`, [
      { path: "name", message: `'${env.name}' is not the definition's own name '${name}': two definitions with one name overwrite each other's stacks (got "${env.name}")` },
    ]);
  }
  return env;
}

export { parseEnvironment, EnvironmentError } from "./load.js";
export * from "./schema.js";
