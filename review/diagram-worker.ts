/**
 * Renders DOT to SVG on a worker thread, so that `lanic-ca synth` draws the diagrams on the
 * second core while the main thread resolves the Terraform stacks (bench/synth.ts). Messages:
 * in `{ id, dot }`, out `{ id, svg }` or `{ id, error }`.
 */
import { parentPort } from "node:worker_threads";
import { baselineWasmOnly, renderSvg } from "./diagram.js";

baselineWasmOnly();

parentPort?.on("message", (m: { id: number; dot: string }) => {
  renderSvg(m.dot).then(
    (svg) => parentPort!.postMessage({ id: m.id, svg }),
    (e: unknown) => parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
