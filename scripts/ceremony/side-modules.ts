/**
 * The modules of this folder that run on synth's side thread (stacks/side-thread.ts), as URLs.
 * Written `./<file>.js` beside the file on purpose: the same URL is right in the compiled tree
 * (dist/scripts/ceremony/) and in the bundle, where every side-thread module is an entry of the
 * same name in the same folder as the code that names it (scripts/bundle.ts, ADR 0054).
 * Importing this module loads nothing else.
 */
export const RENDER_MODULE = new URL("./render.js", import.meta.url);
