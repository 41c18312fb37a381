/**
 * synth writes the ceremony files of each environment (`ceremonies/<env>/*.yaml`): rendered from
 * the environment definition and parsed back strictly (scripts/ceremony/render.ts).
 */
import type { SynthExtension } from "../../stacks/synth.js";
import { renderCeremonyFiles } from "./render.js";

export const ceremonyExtension = (): SynthExtension => ({
  name: "ceremonies",
  files: (t) => renderCeremonyFiles(t.env).map((f) => ({ path: `ceremonies/${t.env.name}/${f.path}`, content: f.content })),
});
