/**
 * The modules of this folder that run on synth's side thread (stacks/side-thread.ts), as URLs —
 * written `./<file>.js` beside the file, like review/side-modules.ts (ADR 0054). Importing this
 * module loads nothing else.
 */
export const READ_INPUTS_MODULE = new URL("./read-inputs.js", import.meta.url);
