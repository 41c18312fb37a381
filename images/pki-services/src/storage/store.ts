/**
 * Certificate records with crash-safe issuance (BR 5.4.1, RFC 3647 4.4.x):
 *   1. reserve: the serial and the linted TBS are stored as an *intent* (and audited) before
 *      the HSM is asked to sign — a serial can never be reused, even after a crash;
 *   2. complete: the certificate is stored after signing;
 *   3. reconcile on start: an intent without a certificate may have been signed by the HSM
 *      just before the crash, so it is treated as possibly issued: recorded and revoked.
 */
import type { PreparedCertificate } from "../pki/issue.js";
import { appendAudit } from "../audit/log.js";
import { toBuffer, type Database } from "./db.js";

/** RFC 5280 5.3.1 CRLReason (7 is unused). */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** The reasons a subscriber certificate may be revoked with (BR 7.2.2, 4.9.1.1): "unspecified"
 *  is published without a reasonCode; cACompromise and aACompromise are for CA and attribute
 *  certificates, certificateHold and removeFromCRL are forbidden (BR 4.9.13: no suspension). */
export const SUBSCRIBER_REVOCATION_REASONS = ["unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation", "privilegeWithdrawn"] as const satisfies readonly RevocationReason[];
export const isSubscriberRevocationReason = (r: string): r is (typeof SUBSCRIBER_REVOCATION_REASONS)[number] => (SUBSCRIBER_REVOCATION_REASONS as readonly string[]).includes(r);

export interface CertificateRecord {
  readonly serial: string;
  readonly caName: string;
  readonly profile: string;
  readonly status: "intent" | "issued" | "revoked" | "failed";
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly der: Buffer | null;
  readonly tbs: Buffer;
  readonly revokedAt: Date | null;
  readonly revocationReason: number | null;
  /** RFC 5280 5.3.2 invalidityDate, when the RA gave one. */
  readonly invalidityDate: Date | null;
  readonly reconciled: boolean;
}

export class SerialCollisionError extends Error {}

/** Another request with the same idempotency key is in progress (its intent is stored). */
export class IdempotencyConflictError extends Error {}

/** An invalidityDate the certificate's record refuses (nothing is written). */
export class InvalidityDateError extends Error {}

export class CertificateStore {
  constructor(
    readonly db: Database,
    readonly caName: string,
  ) {}

  /** Step 1: stores serial + intent + audit record in one transaction. With an idempotency
   *  key, a second live record for the same key is refused ({@link IdempotencyConflictError}). */
  async reserve(p: PreparedCertificate, actor: string, requestId: string, idem?: { key: string; requestSha256: string }): Promise<void> {
    const serial = p.serial.toString("hex");
    const subject = p.subject.map((s) => `${s.type}=${s.value}`).join(", ");
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, not_before, not_after, idempotency_key, request_sha256) VALUES ($1, $2, $3, 'intent', $4, $5, $6, $7, $8, $9)`, [
          serial,
          this.caName,
          p.profile,
          subject,
          p.tbs,
          p.notBefore.toISOString(),
          p.notAfter.toISOString(),
          idem?.key ?? null,
          idem?.requestSha256 ?? null,
        ]);
        await appendAudit(tx, "cert.intent", actor, { ca: this.caName, serial, profile: p.profile, subject, requestId, ...(idem ? { idempotencyKey: idem.key } : {}) });
      });
    } catch (err) {
      if ((err as { code?: string }).code === "23505") {
        if (/certificates_idempotency/.test((err as Error).message)) throw new IdempotencyConflictError(`idempotency key ${idem?.key} is being used by a request in progress`);
        throw new SerialCollisionError(`serial ${serial} already exists`);
      }
      throw err;
    }
  }

  /** The live record (intent, issued or revoked, not reconciled) of an idempotency key. */
  async byIdempotencyKey(key: string): Promise<{ serial: string; status: CertificateRecord["status"]; der: Buffer | null; requestSha256: string } | undefined> {
    const [r] = await this.db.query<{ serial: string; status: CertificateRecord["status"]; der: unknown; request_sha256: string }>(
      `SELECT serial, status, der, request_sha256 FROM certificates WHERE ca_name = $1 AND idempotency_key = $2 AND status <> 'failed' AND NOT reconciled`,
      [this.caName, key],
    );
    return r ? { serial: r.serial, status: r.status, der: r.der == null ? null : toBuffer(r.der), requestSha256: r.request_sha256 } : undefined;
  }

  /** Step 2: stores the certificate. */
  async complete(serial: Buffer, der: Buffer, actor: string, details: Record<string, unknown>): Promise<void> {
    const hex = serial.toString("hex");
    await this.db.transaction(async (tx) => {
      const rows = await tx.query(`UPDATE certificates SET status = 'issued', der = $2, issued_at = now() WHERE serial = $1 AND status = 'intent' RETURNING serial`, [hex, der]);
      if (rows.length !== 1) throw new Error(`no pending intent for serial ${hex}`);
      await appendAudit(tx, "cert.issue", actor, { ca: this.caName, serial: hex, ...details });
    });
  }

  /** The HSM refused or was unavailable: the serial is burnt, nothing is issued. */
  async fail(serial: Buffer, reason: string, actor: string): Promise<void> {
    const hex = serial.toString("hex");
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE certificates SET status = 'failed', failure = $2 WHERE serial = $1 AND status = 'intent'`, [hex, reason]);
      await appendAudit(tx, "cert.issue.failed", actor, { ca: this.caName, serial: hex, reason });
    });
  }

  /**
   * Revokes an issued certificate (RFC 5280 5.3.1 reason) with an optional RFC 5280 5.3.2
   * invalidityDate, which must be neither later than the revocation (the database's now(), the
   * revocationDate it records) nor earlier than the certificate's notBefore; otherwise
   * {@link InvalidityDateError} and nothing is written.
   */
  async revoke(serial: string, reason: RevocationReason, actor: string, opts: { invalidityDate?: Date } = {}): Promise<"revoked" | "not-found" | "already-revoked"> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ status: string; not_before: Date | string; now: Date | string }>(`SELECT status, not_before, now() AS now FROM certificates WHERE serial = $1 AND ca_name = $2 FOR UPDATE`, [
        serial,
        this.caName,
      ]);
      if (!row || row.status === "intent" || row.status === "failed") return "not-found";
      if (row.status === "revoked") return "already-revoked";
      const inv = opts.invalidityDate;
      if (inv) {
        const iso = inv.toISOString().replace(".000Z", "Z");
        if (inv.getTime() > new Date(row.now).getTime()) {
          throw new InvalidityDateError(`invalidityDate ${iso} is in the future: it may not be later than the revocation (RFC 5280 5.3.2)`);
        }
        const notBefore = new Date(row.not_before);
        if (inv.getTime() < notBefore.getTime()) {
          throw new InvalidityDateError(`invalidityDate ${iso} is before the certificate's notBefore ${notBefore.toISOString().replace(".000Z", "Z")}`);
        }
      }
      await tx.query(`UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = $2, invalidity_date = $3 WHERE serial = $1`, [
        serial,
        REVOCATION_REASONS[reason],
        inv ? inv.toISOString() : null,
      ]);
      await appendAudit(tx, "cert.revoke", actor, { ca: this.caName, serial, reason, ...(inv ? { invalidityDate: inv.toISOString() } : {}) });
      return "revoked";
    });
  }

  /**
   * Step 3: every intent left by a crash becomes a revoked record. With several replicas of the
   * issuing CA sharing the database, a live replica's in-flight intents must be left alone: only
   * intents older than `graceSeconds` (longer than any issuance can take) are reconciled. A
   * single instance restarting may use 0.
   */
  async reconcile(actor: string, graceSeconds = 0): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ serial: string }>(
        `UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 0, reconciled = true
         WHERE ca_name = $1 AND status = 'intent' AND created_at <= now() - make_interval(secs => $2) RETURNING serial`,
        [this.caName, graceSeconds],
      );
      const serials = rows.map((r) => r.serial).sort();
      if (serials.length) await appendAudit(tx, "cert.reconciled", actor, { ca: this.caName, count: serials.length, serials, treatedAs: "possibly issued; revoked" });
      return serials;
    });
  }

  async get(serial: string): Promise<CertificateRecord | undefined> {
    const [r] = await this.db.query<Record<string, unknown>>(`SELECT * FROM certificates WHERE serial = $1 AND ca_name = $2`, [serial, this.caName]);
    if (!r) return undefined;
    return {
      serial: r.serial as string,
      caName: r.ca_name as string,
      profile: r.profile as string,
      status: r.status as CertificateRecord["status"],
      subject: r.subject as string,
      notBefore: new Date(r.not_before as string),
      notAfter: new Date(r.not_after as string),
      der: r.der == null ? null : toBuffer(r.der),
      tbs: toBuffer(r.tbs),
      revokedAt: r.revoked_at ? new Date(r.revoked_at as string) : null,
      revocationReason: (r.revocation_reason as number | null) ?? null,
      invalidityDate: r.invalidity_date ? new Date(r.invalidity_date as string) : null,
      reconciled: r.reconciled as boolean,
    };
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ status: string; n: string | number }>(`SELECT status, count(*) AS n FROM certificates WHERE ca_name = $1 GROUP BY status`, [this.caName]);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
