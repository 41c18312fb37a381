/** The shipped environment definitions, by name, unvalidated (environments/index.ts validates
 *  them). */
import type { EnvironmentInput } from "./schema.js";
import dev from "./dev.js";
import staging from "./staging.js";
import production from "./production.js";
import pilot from "./pilot.js";

export const DEFINITIONS: Record<string, EnvironmentInput> = { dev, staging, production, pilot };

export const ENVIRONMENT_NAMES = Object.keys(DEFINITIONS);

/** The message for a name that is not a shipped environment. */
export const unknownEnvironment = (name: string) => `unknown environment '${name}'; defined: ${ENVIRONMENT_NAMES.join(", ")}`;
