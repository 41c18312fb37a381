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
import type { CaTopology } from "../constructs/ca-topology.js";
import type { SynthExtension } from "./synth.js";

export interface SideTask<T> {
  /** The compiled module (a `new URL("./x.js", import.meta.url)` of the caller). */
  readonly module: URL;
  /** Its exported function's name. */
  readonly fn: string;
  readonly args: unknown[];
  /** The same call on this thread (from sources, where no worker file exists). */
  readonly inline: () => Promise<T>;
}

const workerFile = new URL("./side-worker.js", import.meta.url);
let worker: Worker | undefined;
let outstanding = 0;
let nextId = 0;

function sideWorker(): Worker {
  if (!worker) {
    worker = new Worker(workerFile);
    worker.on("error", () => (worker = undefined)); // each pending task rejects below
    worker.unref(); // referenced only while a result is awaited (onSideThread)
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
  for (const p of preload) if (existsSync(p.module)) w.postMessage({ preload: p.module.href, fn: p.fn });
}

export function onSideThread<T>(task: SideTask<T>): Promise<T> {
  if (!existsSync(workerFile) || !existsSync(task.module)) return task.inline();
  const w = sideWorker();
  // Referenced only while a result is awaited: the process exits without waiting for an idle thread.
  if (outstanding++ === 0) w.ref();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      if (--outstanding === 0) w.unref();
    };
    const onMessage = (m: { id: number; result?: T; error?: string }) => {
      if (m.id !== id) return;
      done();
      if (m.error === undefined) resolve(m.result as T);
      else reject(new Error(`${task.fn} (side thread): ${m.error}`));
    };
    const onError = (e: Error) => {
      done();
      reject(new Error(`${task.fn} (side thread): ${e.message}`));
    };
    w.on("message", onMessage);
    w.on("error", onError);
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
