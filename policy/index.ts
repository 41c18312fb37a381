/** The CP/CPS policy: catalog, evaluation, reports, the synth gate and `lanic-ca check`. */
import type { CaTopology } from "../stacks/ca-topology.js";
import { checkWithExceptions, givenExceptions, type CheckOptions } from "./check.js";
import { loadExceptions } from "./exceptions.js";
import type { PolicyResult } from "./types.js";

export { CATALOG } from "./catalog.js";
export { evaluate, refuses } from "./run.js";
export { SynthesizedResources } from "./resources.js";
export { loadExceptions, parseExceptions, ExceptionsError } from "./exceptions.js";
export { checkWithExceptions, outputsOf, type CheckOptions, type ExceptionsFileContent } from "./check.js";
export type * from "./types.js";

/** Checks one built topology against the catalog, with its exceptions applied (read from the
 *  exceptions folder unless given). */
export function checkTopology(t: CaTopology, options: CheckOptions = {}): PolicyResult {
  return checkWithExceptions(t, givenExceptions(t.env.name, options) ?? loadExceptions(t.env.name, options.exceptionsDir), options);
}
