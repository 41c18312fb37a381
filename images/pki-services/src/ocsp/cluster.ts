/**
 * `ocsp-responder --serve --workers N` (N ≥ 2): N serving processes sharing the HTTP port
 * (node:cluster), one primary that owns everything else (docs/adr/0052):
 *
 * - The primary holds the complete set of pre-signed responses (ResponseCache), is the only
 *   writer of the --cache-file journal, and owns the publish port (mTLS). It serves no OCSP.
 * - A push is taken into the primary's cache, then sent to every worker over IPC; the signer's
 *   HTTP 200 waits until every worker has acknowledged it. A worker that has not acknowledged
 *   within `ackTimeoutMs` (10 s) is killed (SIGKILL) and replaced: no worker goes on answering
 *   from a set that lacks a pushed revocation.
 * - A worker starts empty, asks the primary for the full set (sent in pieces of ≤ 8 MB), and
 *   only then listens: it never answers from a partial set. A worker that dies is restarted
 *   (at once, backing off up to 10 s when it keeps dying young) and gets the full set again.
 * - The instance id the signer sees is the primary's: a worker restart needs no re-push; a
 *   restart of the primary (the container) changes it, and the signer pushes everything again.
 */
import cluster, { type Worker } from "node:cluster";
import type { Listening } from "./server.js";
import { ResponseCache, serveOcsp } from "./server.js";

type ToWorker = { t: "put"; body: Uint8Array } | { t: "push"; seq: number; body: Uint8Array } | { t: "snapshot-end" };
type ToPrimary = { t: "hello" } | { t: "ack"; seq: number } | { t: "listening"; port: number };

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export interface ClusterOptions {
  readonly workers: number;
  readonly host: string;
  readonly port: number;
  /** Primary's cache: already loaded from --cache-file (and journalling) when persisting. */
  readonly cache: ResponseCache;
  readonly log: (line: Record<string, unknown>) => void;
  /** How long a worker may take to take a push before it is replaced. @default 10000 */
  readonly ackTimeoutMs?: number;
}

export interface ServingCluster {
  readonly port: number;
  /** Sends `body` (already in the primary's cache) to every worker; resolves when each has it
   *  or has been replaced by one that gets the full set. */
  fanOut(body: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * The workers accept connections themselves from the shared socket (SCHED_NONE), not handed one
 * by one by the primary (round-robin, Node's default on Linux): OCSP clients mostly send one
 * request per connection, and round-robin costs the primary an accept plus an IPC handle
 * transfer per connection (measured: 2.5× fewer requests per CPU-second than SCHED_NONE, bench/ocsp.ts).
 * The kernel balances less evenly (about 2:1 seen on idle workers). NODE_CLUSTER_SCHED_POLICY=rr
 * still chooses round-robin. Must run before the first fork.
 */
export function useKernelBalancing(): void {
  if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;
}

/** Primary side: forks the workers and resolves once all of them listen. */
export async function startServingCluster(o: ClusterOptions): Promise<ServingCluster> {
  if (!cluster.isPrimary) throw new Error("startServingCluster runs in the primary");
  const ackTimeoutMs = o.ackTimeoutMs ?? 10_000;
  useKernelBalancing();
  cluster.setupPrimary({ serialization: "advanced" }); // Buffers over IPC without JSON
  const ready = new Set<Worker>(); // asked for (and were sent) the full set: they get every push
  const pending = new Map<Worker, Map<number, () => void>>();
  const born = new Map<Worker, number>();
  let seq = 0;
  let stopping = false;
  let restartDelay = 0;
  let port = 0;
  let startup: { listening: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  const sweep = setInterval(() => o.cache.sweep(), 60_000);
  sweep.unref();

  const fork = (): Worker => {
    const w = cluster.fork({ LANIC_OCSP_WORKER: "1" });
    born.set(w, Date.now());
    pending.set(w, new Map());
    w.on("message", (m: ToPrimary) => {
      if (m.t === "hello") {
        for (const part of o.cache.snapshot()) w.send({ t: "put", body: part } satisfies ToWorker);
        w.send({ t: "snapshot-end" } satisfies ToWorker);
        ready.add(w);
      } else if (m.t === "ack") {
        const done = pending.get(w)?.get(m.seq);
        pending.get(w)?.delete(m.seq);
        done?.();
      } else if (m.t === "listening") {
        port = m.port;
        o.log({ event: "worker.listening", role: "ocsp-responder", worker: w.id, pid: w.process.pid, port: m.port, responses: o.cache.size });
        if (startup && ++startup.listening === o.workers) startup.resolve();
      }
    });
    o.log({ event: "worker.started", role: "ocsp-responder", worker: w.id, pid: w.process.pid });
    return w;
  };

  cluster.on("exit", (w, code, signal) => {
    ready.delete(w);
    for (const done of pending.get(w)?.values() ?? []) done(); // its replacement gets the full set
    pending.delete(w);
    const lived = Date.now() - (born.get(w) ?? 0);
    born.delete(w);
    if (stopping) return;
    if (startup) {
      startup.reject(new Error(`OCSP worker ${w.id} exited (code ${code}, signal ${signal}) before listening`));
      return;
    }
    restartDelay = lived < 5_000 ? Math.min(Math.max(2 * restartDelay, 250), 10_000) : 0;
    o.log({ event: "worker.exited", role: "ocsp-responder", worker: w.id, pid: w.process.pid, code, signal, restartInMs: restartDelay });
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelay);
  });

  const stopAll = async (): Promise<void> => {
    stopping = true;
    clearInterval(sweep);
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    await Promise.all(
      alive.map(
        (w) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => w.process.kill("SIGKILL"), 5_000);
            w.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
            w.process.kill("SIGTERM");
          }),
      ),
    );
  };

  try {
    await new Promise<void>((resolve, reject) => {
      startup = { listening: 0, resolve, reject };
      for (let i = 0; i < o.workers; i++) fork();
    });
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    startup = undefined;
  }

  return {
    get port() {
      return port;
    },
    async fanOut(body: Buffer): Promise<void> {
      const n = ++seq;
      await Promise.all(
        [...ready].map(
          (w) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                o.log({ event: "worker.unresponsive", role: "ocsp-responder", worker: w.id, pid: w.process.pid, ackTimeoutMs });
                w.process.kill("SIGKILL"); // its exit resolves this push; the replacement gets the full set
              }, ackTimeoutMs);
              pending.get(w)?.set(n, () => {
                clearTimeout(timer);
                resolve();
              });
              w.send({ t: "push", seq: n, body } satisfies ToWorker);
            }),
        ),
      );
    },
    close: stopAll,
  };
}

/** True in a process forked by startServingCluster. */
export const isServingWorker = (): boolean => cluster.isWorker && process.env.LANIC_OCSP_WORKER === "1";

/** Worker side: gets the full set from the primary, then listens; takes every push after. */
export async function runServingWorker(o: { host: string; port: number }): Promise<Listening> {
  const cache = new ResponseCache();
  const send = (m: ToPrimary) => process.send!(m);
  const id = String(cluster.worker!.id);
  let snapshotDone!: () => void;
  const snapshot = new Promise<void>((r) => (snapshotDone = r));
  process.on("message", (m: ToWorker) => {
    if (m.t === "put") cache.putAll(asBuffer(m.body));
    else if (m.t === "push") {
      cache.putAll(asBuffer(m.body));
      send({ t: "ack", seq: m.seq });
    } else if (m.t === "snapshot-end") snapshotDone();
  });
  send({ t: "hello" });
  await snapshot;
  const s = await serveOcsp(cache, { ...o, worker: id });
  send({ t: "listening", port: s.port });
  return s;
}
