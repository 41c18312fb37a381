/**
 * Verify-after-sign off the event loop: ECDSA verification costs about as much CPU as the
 * signature itself (P-256: ~0.1–0.2 ms), and on the issuing CA's event loop it competes with
 * C_SignInit, encoding and HTTP. A small pool of worker_threads holds the CA public key and
 * verifies batches (one message per thread and event-loop turn, not one per signature).
 *
 * It does not make the check cheaper: it only moves it to another core. bench/issuance.ts
 * measures whether that pays (ADR 0010).
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Checks an X.509 signature over `tbs` with the issuer key: the verify-after-sign step. */
export type SignatureVerifier = (hash: string, tbs: Buffer, signature: Buffer) => boolean | Promise<boolean>;

// The worker: its own KeyObject from the SPKI, answers [id, ok] pairs for each batch.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createPublicKey, verify } = require("node:crypto");
const key = createPublicKey({ key: Buffer.from(workerData.spki), format: "der", type: "spki" });
parentPort.on("message", (batch) => {
  const out = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const [id, hash, tbs, sig] = batch[i];
    let ok = false;
    try { ok = verify(hash, tbs, key, sig); } catch { ok = false; }
    out[i] = [id, ok];
  }
  parentPort.postMessage(out);
});
`;

type Job = [id: number, hash: string, tbs: Uint8Array, signature: Uint8Array];

export class VerifyPool {
  private workers: Worker[];
  private readonly key: KeyObject;
  /** Jobs sent to each worker and not answered yet (failed inline if the worker dies). */
  private readonly inFlight = new Map<Worker, Job[][]>();
  private readonly pending = new Map<number, (ok: boolean) => void>();
  private queue: Job[] = [];
  private scheduled = false;
  private nextId = 0;
  private next = 0;
  private closed = false;

  /** @param spki DER SubjectPublicKeyInfo of the issuer key. @param threads @default min(2, cores) */
  constructor(spki: Buffer, threads = Math.min(2, availableParallelism())) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`'threads' (${threads}) must be a positive integer`);
    this.key = createPublicKey({ key: spki, format: "der", type: "spki" });
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(WORKER, { eval: true, workerData: { spki } });
      this.inFlight.set(w, []);
      w.on("message", (out: [number, boolean][]) => {
        this.inFlight.get(w)?.shift();
        for (const [id, ok] of out) this.settle(id, ok);
      });
      // A worker that dies: drop it and verify what it held (and, with none left, everything) here.
      w.on("exit", () => {
        this.workers = this.workers.filter((x) => x !== w);
        const held = this.inFlight.get(w) ?? [];
        this.inFlight.delete(w);
        for (const batch of held) this.verifyHere(batch);
      });
      w.on("error", () => undefined); // followed by "exit"
      w.unref();
      return w;
    });
  }

  private settle(id: number, ok: boolean): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(ok);
  }

  private verifyHere(batch: Job[]): void {
    for (const [id, hash, tbs, sig] of batch) {
      let ok = false;
      try {
        ok = verify(hash, tbs, this.key, sig);
      } catch {
        ok = false;
      }
      this.settle(id, ok);
    }
  }

  /** A {@link SignatureVerifier} backed by this pool. */
  readonly verify: SignatureVerifier = (hash, tbs, signature) => {
    if (this.closed) return Promise.reject(new Error("verify pool is closed"));
    const id = this.nextId++;
    const p = new Promise<boolean>((resolve) => this.pending.set(id, resolve));
    this.queue.push([id, hash, tbs, signature]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return p;
  };

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    if (!this.workers.length) {
      this.verifyHere(q);
      return;
    }
    // Spread the batch over the threads.
    const per = Math.ceil(q.length / this.workers.length);
    for (let i = 0; i < q.length; i += per) {
      const w = this.workers[this.next++ % this.workers.length];
      const batch = q.slice(i, i + per);
      this.inFlight.get(w)!.push(batch);
      w.postMessage(batch);
    }
  }

  /** Number of live worker threads. */
  get threads(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate())); // "exit" verifies what they held
  }
}
