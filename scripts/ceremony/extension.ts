/**
 * synth writes the ceremony files of each environment (`ceremonies/<env>/*.yaml`, issue 5). They
 * depend only on the environment definition: rendered (and parsed back strictly) on the side
 * thread while the main thread resolves the stacks (stacks/side-thread.ts).
 */
import { sideThreadExtension } from "../../stacks/side-thread.js";
import type { RenderedFile } from "./render.js";
import { RENDER_MODULE } from "./side-modules.js";

export const ceremonyExtension = () =>
  sideThreadExtension<RenderedFile[]>(
    "ceremonies",
    (t) => ({
      module: RENDER_MODULE,
      fn: "renderCeremonyFiles",
      args: [t.env],
      inline: async () => (await import("./render.js")).renderCeremonyFiles(t.env),
    }),
    (t, files) => files.map((f) => ({ path: `ceremonies/${t.env.name}/${f.path}`, content: f.content })),
  );
