/**
 * A second thread for the synth work that needs no cdktf: drawing the diagrams (Graphviz WASM)
 * and rendering the ceremony files. Extensions start it as soon as the construct tree exists
 * (`SynthExtension.start`), it runs while the main thread resolves the stacks and the policy
 * gate checks them, and `files` collects the results — on the two cores of these machines the
 * main thread's critical path is shorter by that work and by the modules it loads
 * (bench/synth.ts).
 *
 * A task names an exported function of one of our modules and plain (structured-cloneable)
 * arguments; the function's result must be cloneable too. Run from the TypeScript sources
 * (vitest) there is no compiled worker: the task's `inline` fallback runs on this thread.
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { CaTopology } from "./ca-topology.js";
import type { SynthExtension } from "./synth.js";

export interface SideTask<T> {
  /** The compiled module: a `new URL("./x.js", import.meta.url)` written beside x (see
   *  review/side-modules.ts: the same URL must hold in dist/ and in the bundle, ADR 0054). */
  readonly module: URL;
  /** Its exported function's name. */
  readonly fn: string;
  readonly args: unknown[];
  /** The same call on this thread (from sources, where no worker file exists). */
  readonly inline: () => Promise<T>;
}

const workerFile = new URL("./side-worker.js", import.meta.url);
/** `LANIC_CA_TRACE=1`: where each preload and task runs (the bundle's test checks it). */
const trace = process.env.LANIC_CA_TRACE
  ? (what: string, module: URL) => process.stderr.write(`lanic-ca side thread: ${what} ${module.pathname}\n`)
  : () => undefined;
let worker: Worker | undefined;
let nextId = 0;
/** Tasks awaiting their result, by id (one listener on the thread dispatches them). */
const pending = new Map<number, { fn: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function settle(id: number, outcome: { result?: unknown; error?: string }): void {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  // Referenced only while a result is awaited: the process exits without waiting for an idle thread.
  if (pending.size === 0) worker?.unref();
  if (outcome.error === undefined) p.resolve(outcome.result);
  else p.reject(new Error(`${p.fn} (side thread): ${outcome.error}`));
}

function sideWorker(): Worker {
  if (!worker) {
    const w = (worker = new Worker(workerFile));
    w.on("message", (m: { id: number; result?: unknown; error?: string }) => settle(m.id, m));
    w.on("error", (e: Error) => {
      worker = undefined; // the next task starts a new thread
      for (const id of [...pending.keys()]) settle(id, { error: e.message });
    });
    w.unref(); // after the listeners: adding a "message" listener references the thread's port again
  }
  return worker;
}

/**
 * Starts the side thread early and has it load modules (and call their named preparation
 * function, e.g. loading Graphviz's WASM) before any task arrives. Nothing is awaited: a
 * failure here shows when a task that needs the module runs. No-op from the sources.
 */
export function startSideThread(preload: { module: URL; fn?: string }[]): void {
  if (!existsSync(workerFile)) return;
  const w = sideWorker();
  for (const p of preload) {
    if (!existsSync(p.module)) continue;
    trace(`preload ${p.fn ?? "(module)"} from`, p.module);
    w.postMessage({ preload: p.module.href, fn: p.fn });
  }
}

export function onSideThread<T>(task: SideTask<T>): Promise<T> {
  if (!existsSync(workerFile) || !existsSync(task.module)) {
    trace(`${task.fn} inline, no compiled`, existsSync(workerFile) ? task.module : workerFile);
    return task.inline();
  }
  trace(`${task.fn} from`, task.module);
  const w = sideWorker();
  if (pending.size === 0) w.ref();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { fn: task.fn, resolve: resolve as (v: unknown) => void, reject });
    w.postMessage({ id, module: task.module.href, fn: task.fn, args: task.args });
  });
}

/**
 * A synth extension whose files come from one side-thread task per environment: started with
 * the construct tree (`start`), collected by `files`.
 */
export function sideThreadExtension<T>(
  name: string,
  task: (t: CaTopology) => SideTask<T>,
  toFiles: (t: CaTopology, result: T) => { path: string; content: string }[],
): SynthExtension {
  const pending = new Map<string, Promise<T>>();
  return {
    name,
    start: (topologies) => {
      pending.clear(); // a new synth (an earlier one may have been refused before collecting)
      for (const t of topologies) {
        const result = onSideThread(task(t));
        result.catch(() => undefined); // reported when collected
        pending.set(t.env.name, result);
      }
    },
    files: async (t) => {
      const result = await (pending.get(t.env.name) ?? onSideThread(task(t)));
      pending.delete(t.env.name);
      return toFiles(t, result);
    },
  };
}
