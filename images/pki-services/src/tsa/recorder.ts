/**
 * The TSA's token record with group commit: a token is handed out only once it and its audit
 * record are committed, and the tokens that finish signing while a commit is running are written
 * together by the next one (one transaction, one audit-chain lock, one multi-row INSERT). With a
 * single request in flight this is one transaction per token, as before; under load it keeps the
 * database from capping the HSM's signing rate (docs/adr/0085).
 */
import { appendAuditBatch } from "../audit/log.js";
import type { Database } from "../storage/db.js";

export interface TokenRow {
  readonly serial: string;
  readonly tsaName: string;
  readonly policy: string;
  readonly genTime: string;
  readonly hash: string;
  readonly imprint: string;
  readonly nonce: string | null;
  readonly token: Buffer;
  /** What the audit record of the token says. */
  readonly audit: Record<string, unknown>;
}

interface Pending {
  readonly row: TokenRow;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Most tokens in one transaction (8 parameters each; PostgreSQL allows 65,535 per statement). */
const MAX_BATCH = 500;

export class TokenRecorder {
  private readonly queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Database,
    private readonly actor: string,
  ) {}

  /** Resolves when the token and its audit record are committed. */
  record(row: TokenRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.db.transaction(async (tx) => {
          const params = batch.flatMap(({ row: r }) => [r.serial, r.tsaName, r.policy, r.genTime, r.hash, r.imprint, r.nonce, r.token]);
          const values = batch.map((_, i) => `(${Array.from({ length: 8 }, (_, j) => `$${i * 8 + j + 1}`).join(", ")})`).join(", ");
          await tx.query(`INSERT INTO tsa_tokens (serial, tsa_name, policy, gen_time, hash_algorithm, imprint, nonce, token) VALUES ${values}`, params);
          await appendAuditBatch(
            tx,
            "tsa.stamp",
            this.actor,
            batch.map((p) => p.row.audit),
          );
        });
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.flushing = false;
  }
}
