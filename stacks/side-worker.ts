/**
 * The side thread's entry (stacks/side-thread.ts): in `{ id, module, fn, args }` — a module of
 * this project and one of its exported functions — out `{ id, result }` or `{ id, error }`.
 */
import { parentPort } from "node:worker_threads";

parentPort?.on("message", (m: { id: number; module: string; fn: string; args: unknown[] }) => {
  import(m.module)
    .then((mod: Record<string, (...a: unknown[]) => unknown>) => {
      if (typeof mod[m.fn] !== "function") throw new Error(`${m.module} exports no function ${m.fn}`);
      return mod[m.fn](...m.args);
    })
    .then(
      (result) => parentPort!.postMessage({ id: m.id, result }),
      (e: unknown) => parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
});
