/**
 * The CRL publisher's core: allocate the next cRLNumber (stored, never reused), stream the
 * revoked entries of one CA from the database through a cursor into {@link writeCrl}, record
 * and audit the CRL, hand it to the repository. {@link CrlPublisher.watch} re-publishes within
 * a minute of any revocation (polls the revocation watermark; docs/adr/0050).
 */
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { appendAudit } from "../audit/log.js";
import type { IssuingCaServiceConfig } from "../config/schema.js";
import { issuerFromCertificate } from "../pki/profile.js";
import type { Database, Queryable } from "../storage/db.js";
import type { DigestSigner } from "./digest-signer.js";
import { derFileToPem, writeCrl, type CrlEntryRow } from "./encode.js";

export interface CrlPublisherOptions {
  readonly config: IssuingCaServiceConfig;
  readonly db: Database;
  /** The CA key (cRLSign) in the HSM. */
  readonly signer: DigestSigner;
  /** DER of the CA certificate: issuer name and key identifier of the CRL. */
  readonly caCertificate: Buffer;
  /** Where `<ca>.crl` (DER) and `<ca>.crl.pem` are written. */
  readonly outDir: string;
  /** Pushes the DER file to the repository (publish port 8443, mTLS). */
  readonly publish?: (derPath: string, name: string) => Promise<void>;
  /** Rows fetched per cursor round trip. @default 10000 */
  readonly batchSize?: number;
  readonly now?: () => Date;
}

export interface PublishedCrl {
  readonly crlNumber: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly size: number;
  readonly derPath: string;
  readonly pemPath: string;
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export class CrlPublisher {
  private lastRevocationSeen: string | null = null;
  constructor(readonly o: CrlPublisherOptions) {
    const issuer = issuerFromCertificate(o.caCertificate, o.config.keyAlgorithm, o.config.urls);
    if (!issuer.spki.equals(o.signer.spki)) throw new Error(`the CA certificate's public key is not the key "${o.config.hsm.keyLabel}" in token "${o.config.hsm.tokenLabel}"`);
    this.issuerDer = issuer.subjectDer;
    this.keyId = issuer.keyIdentifier;
  }
  private readonly issuerDer: Buffer;
  private readonly keyId: Buffer;

  get name(): string {
    return this.o.config.name;
  }

  /**
   * RFC 5280 5.2.3: the next cRLNumber, committed before anything is signed. It is the larger of
   * (last stored + 1) and the clock in Unix milliseconds, so it keeps increasing even after a
   * failover to a replica that lost the last few commits (docs/adr/0050). ~1.8e12: 6 octets,
   * far below the 20 octets allowed.
   */
  async allocateNumber(now: Date): Promise<bigint> {
    const floor = now.getTime();
    const [row] = await this.o.db.query<{ n: string }>(
      `INSERT INTO crl_state (ca_name, last_number) VALUES ($1, $2) ON CONFLICT (ca_name) DO UPDATE SET last_number = GREATEST(crl_state.last_number + 1, $2) RETURNING last_number::text AS n`,
      [this.name, floor],
    );
    return BigInt(row.n);
  }

  /** Produces, records and publishes one full CRL. */
  async publishOnce(actor = "system"): Promise<PublishedCrl> {
    const { config, db } = this.o;
    const now = this.o.now?.() ?? new Date();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    // BR 4.9.7 / the CP: nextUpdate − thisUpdate from the environment definition.
    const nextUpdate = new Date(thisUpdate.getTime() + config.crl.nextUpdateHours * 3_600_000);
    const crlNumber = await this.allocateNumber(now);
    const derPath = join(this.o.outDir, `${this.name}.crl`);
    const pemPath = `${derPath}.pem`;
    const batch = this.o.batchSize ?? 10_000;
    const watermark = await this.revocationWatermark();
    const result = await db.transaction(async (tx) => {
      // The cursor's snapshot is one consistent view; a revocation committed after it is in the next CRL
      // (the watermark was read before). A revocation in the same second as thisUpdate is dated thisUpdate.
      await tx.query(
        `DECLARE crl_entries NO SCROLL CURSOR FOR
         SELECT serial, to_char(LEAST(revoked_at, ${lit(thisUpdate.toISOString())}::timestamptz) AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS') AS r, revocation_reason AS c,
                to_char(invalidity_date AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS') AS i
         FROM certificates
         WHERE ca_name = ${lit(this.name)} AND status = 'revoked'
           AND not_after >= ${lit(thisUpdate.toISOString())}::timestamptz
         ORDER BY serial`,
      );
      async function* rows(q: Queryable): AsyncGenerator<CrlEntryRow[]> {
        for (;;) {
          const r = await q.query<{ serial: string; r: string; c: number | null; i: string | null }>(`FETCH ${batch} FROM crl_entries`);
          if (!r.length) return;
          yield r.map((x) => ({ serial: x.serial, revokedAt: x.r, reason: x.c, invalidity: x.i }));
          if (r.length < batch) return;
        }
      }
      const written = await writeCrl({ issuerDer: this.issuerDer, authorityKeyId: this.keyId, crlNumber, thisUpdate, nextUpdate, signer: this.o.signer, entries: rows(tx), out: derPath });
      await tx.query(`CLOSE crl_entries`);
      return written;
    });
    await derFileToPem(derPath, pemPath);
    const { createHash } = await import("node:crypto");
    const { createReadStream } = await import("node:fs");
    const h = createHash("sha256");
    for await (const c of createReadStream(derPath)) h.update(c as Buffer);
    const sha256 = h.digest("hex");
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO crls (ca_name, crl_number, this_update, next_update, entries, sha256, size) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        this.name,
        crlNumber.toString(),
        thisUpdate.toISOString(),
        nextUpdate.toISOString(),
        result.entries,
        sha256,
        result.size,
      ]);
      await appendAudit(tx, "crl.issue", actor, {
        ca: this.name,
        crlNumber: crlNumber.toString(),
        thisUpdate: thisUpdate.toISOString(),
        nextUpdate: nextUpdate.toISOString(),
        entries: result.entries,
        sha256,
        key: config.hsm.keyLabel,
      });
    });
    if (this.o.publish) await this.o.publish(derPath, `${this.name}.crl`);
    this.lastRevocationSeen = watermark;
    return { crlNumber, thisUpdate, nextUpdate, entries: result.entries, size: result.size, derPath, pemPath };
  }

  /** The latest revocation of this CA (ISO text), or "" when none. */
  async revocationWatermark(): Promise<string> {
    const [r] = await this.o.db.query<{ m: string | null }>(`SELECT max(revoked_at)::text AS m FROM certificates WHERE ca_name = $1 AND revoked_at IS NOT NULL`, [this.name]);
    return r?.m ?? "";
  }

  /** True when a revocation was recorded since the last CRL this process published. */
  async revokedSinceLast(): Promise<boolean> {
    return (await this.revocationWatermark()) !== this.lastRevocationSeen;
  }

  /**
   * Long-running mode: a CRL at start, then one within `pollSeconds` (≤ 30) of any revocation,
   * and one every `crl.intervalHours` regardless (the CronJob is the floor if this process dies).
   */
  async watch(o: { pollSeconds?: number; signal: AbortSignal; onPublished?: (p: PublishedCrl) => void; onError?: (e: unknown) => void }): Promise<void> {
    const poll = Math.min(o.pollSeconds ?? 15, 30) * 1000;
    const interval = this.o.config.crl.intervalHours * 3_600_000;
    let last = 0;
    while (!o.signal.aborted) {
      try {
        if (Date.now() - last >= interval || (await this.revokedSinceLast())) {
          const p = await this.publishOnce();
          last = Date.now();
          o.onPublished?.(p);
        }
      } catch (err) {
        o.onError?.(err); // DB or HSM away: retried at the next poll
      }
      // timers/promises removes its abort listener when the timer fires: none piles up per poll
      await delay(poll, undefined, { signal: o.signal }).catch(() => undefined);
    }
  }
}
