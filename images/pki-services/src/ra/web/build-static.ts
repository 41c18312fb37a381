/**
 * Builds the RA pages' static files into dist/ra/web/static/: `enroll.js`, the one script the
 * pages load (an ES module, never inline: the Content-Security-Policy allows `script-src 'self'`
 * only), bundled by esbuild from src/ra/web/browser/ with PKIjs (docs/adr/0066), and the style
 * sheet. Run after `tsc -b` (the root `npm run build`, the image's build stage).
 */
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url)); // dist/ra/web
const pkg = resolve(here, "../../..");
export const STATIC_DIR = join(here, "static");

export async function buildStatic(outdir = STATIC_DIR): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { enroll: join(pkg, "src/ra/web/browser/enroll.ts") },
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    // WebCrypto Ed/ECDSA + ES2020 in every browser the applicants use (and Debian's Chromium).
    target: ["chrome109", "firefox115", "safari16"],
    minify: true,
    sourcemap: false,
    legalComments: "eof",
    logLevel: "warning",
  });
  for (const f of readdirSync(join(pkg, "src/ra/web/static"))) copyFileSync(join(pkg, "src/ra/web/static", f), join(outdir, f));
  // The pages' templates (Eta) beside the compiled pages.ts.
  const views = join(outdir, "..", "views");
  mkdirSync(views, { recursive: true });
  for (const f of readdirSync(join(pkg, "src/ra/web/views"))) copyFileSync(join(pkg, "src/ra/web/views", f), join(views, f));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildStatic();
