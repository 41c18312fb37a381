/**
 * The side thread's entry (stacks/side-thread.ts): in `{ id, module, fn, args }` — a module of
 * this project and one of its exported functions — out `{ id, result }` or `{ id, error }`;
 * in `{ preload, fn? }`: load a module (and call its preparation function) ahead of the tasks.
 */
import { parentPort } from "node:worker_threads";

type Message = { id: number; module: string; fn: string; args: unknown[] } | { preload: string; fn?: string };

parentPort?.on("message", (m: Message) => {
  if ("preload" in m) {
    // Load ahead of the tasks (stacks/side-thread.ts startSideThread); errors show in the task.
    import(m.preload).then((mod: Record<string, () => unknown>) => m.fn && mod[m.fn]?.()).catch(() => undefined);
    return;
  }
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
