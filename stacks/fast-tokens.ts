/**
 * cdktf records a full JavaScript stack trace in every token it creates (each generated
 * resource builds several output-reference tokens), only to decorate resolution errors. With
 * ~1,300 resources that was the largest cost of `lanic-ca synth` (≈ 1.3 s of 3.3 s here). We turn
 * the capture off: tokens get an empty creation stack; the output is byte-identical
 * (test/topology: determinism; bench/synth.ts measures the effect). cdktf's package has no
 * "exports" map, so this module path is reachable; if a cdktf/cdktn upgrade moves it, synth
 * still works (only slower) and this prints nothing.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
try {
  const stackTrace = require("cdktf/lib/tokens/private/stack-trace.js") as { captureStackTrace: () => string[] };
  stackTrace.captureStackTrace = () => [];
} catch {
  // Module moved in another cdktf version: keep cdktf's behaviour.
}
