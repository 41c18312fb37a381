/**
 * The OCSP signer (`ocsp-responder --sign-only`, issuing zone: HSM + database): keeps a signed
 * response for every issued, unexpired certificate of its CA, for SHA-1 and SHA-256 CertIDs;
 * re-signs a certificate's responses within one poll (≤ 30 s) of its issuance or revocation and
 * all of them after `ocsp.refreshHours` (before half their validity, BR 4.9.9); and pushes them
 * to the public responder, which holds no key and no database (docs/adr/0051). Certificates
 * are read a page at a time (`batchSize`, keyset pagination by serial), and each page is signed
 * and pushed before the next is read: a first load of millions of certificates is never one
 * result set (the signed responses themselves stay in memory, ~2 KB per live certificate, to be
 * pushed again to a responder that restarted empty).
 */
import "reflect-metadata";
import { createHash } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import * as x509 from "@peculiar/x509";
import { AuditLog } from "../audit/log.js";
import { EKU_OIDS, type IssuingCaServiceConfig } from "../config/schema.js";
import type { DigestSigner } from "../crl/digest-signer.js";
import { EXT, issuerFromCertificate } from "../pki/profile.js";
import type { Database } from "../storage/db.js";
import { issuerHashes, ocspResponse, publicKeyBits, responseData, type CertIdHash, type SingleStatus } from "./protocol.js";

export interface OcspSignerOptions {
  readonly config: IssuingCaServiceConfig;
  readonly db: Database;
  /** The delegated responder's key (in the HSM). */
  readonly signer: DigestSigner;
  /** DER of the delegated responder certificate (OCSP signing EKU, id-pkix-ocsp-nocheck). */
  readonly responderCertificate: Buffer;
  /** DER of the CA certificate that issued both the responder certificate and the certificates. */
  readonly caCertificate: Buffer;
  /** Sends responses to the public responder; returns the responder's instance id (a new id
   *  means it restarted empty, and everything is pushed again). */
  readonly push?: (responses: Buffer[]) => Promise<{ instance: string }>;
  /** @default ["sha1", "sha256"] */
  readonly hashes?: readonly CertIdHash[];
  /** Signatures in flight at once (HSM session pool). @default 8 */
  readonly concurrency?: number;
  /** Certificates read per query (keyset pagination by serial); each page is signed and pushed
   *  before the next is read, so a first load of millions of certificates is never one result
   *  set in memory. @default 10000 */
  readonly batchSize?: number;
  readonly now?: () => Date;
}

interface Entry {
  status: "good" | "revoked";
  revokedAt: Date | null;
  reason: number | null;
  notAfter: number;
  signedAt: number;
  responses: Buffer[];
}

/** BR 4.9.9 limits for the configured validity and refresh; throws with the rule broken. */
export function checkOcspTimes(c: IssuingCaServiceConfig["ocsp"]): void {
  const v = c.responseValidityHours;
  if (v < 8 || v > 240) throw new Error(`'ocsp.responseValidityHours' (${v}) must be between 8 and 240 (BR 4.9.9: 8 hours to 10 days)`);
  const max = v < 16 ? v / 2 : Math.min(v - 8, 96);
  if (c.refreshHours > max) {
    throw new Error(
      `'ocsp.refreshHours' (${c.refreshHours}) must be at most ${max} for ${v}-hour responses (BR 4.9.9: ${v < 16 ? "before half the validity" : "8 hours before nextUpdate and within 4 days of thisUpdate"})`,
    );
  }
}

export class OcspSigner {
  readonly entries = new Map<string, Entry>();
  private watermark: string | null = null;
  private lastInstance: string | null = null;
  private readonly audit: AuditLog;
  private readonly responderKeyHash: Buffer;
  private readonly issuer: Record<CertIdHash, { nameHash: Buffer; keyHash: Buffer }>;
  private readonly hashes: readonly CertIdHash[];

  constructor(readonly o: OcspSignerOptions) {
    checkOcspTimes(o.config.ocsp);
    const ca = issuerFromCertificate(o.caCertificate, o.config.keyAlgorithm, o.config.urls);
    this.hashes = o.hashes ?? ["sha1", "sha256"];
    this.issuer = { sha1: issuerHashes("sha1", ca.subjectDer, ca.spki), sha256: issuerHashes("sha256", ca.subjectDer, ca.spki) };
    this.responderKeyHash = createHash("sha1").update(publicKeyBits(o.signer.spki)).digest();
    this.audit = new AuditLog(o.db);
  }

  get name(): string {
    return this.o.config.name;
  }

  /** RFC 6960 4.2.2.2: the delegated responder certificate is issued by the CA, carries
   *  id-kp-OCSPSigning and (BR 7.1.2.8) id-pkix-ocsp-nocheck, and certifies the HSM key. */
  async checkResponderCertificate(): Promise<void> {
    const cert = new x509.X509Certificate(this.o.responderCertificate);
    const ca = new x509.X509Certificate(this.o.caCertificate);
    const problems: string[] = [];
    if (cert.issuer !== ca.subject) problems.push(`its issuer "${cert.issuer}" is not the CA "${ca.subject}"`);
    if (!(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }))) problems.push("its signature does not verify with the CA key");
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    if (!eku?.usages.includes(EKU_OIDS.ocspSigning)) problems.push("it lacks the id-kp-OCSPSigning extended key usage");
    if (!cert.getExtension(EXT.ocspNoCheck)) problems.push("it lacks id-pkix-ocsp-nocheck");
    if (!Buffer.from(cert.publicKey.rawData).equals(this.o.signer.spki)) problems.push("its public key is not the responder key in the HSM");
    const now = this.o.now?.() ?? new Date();
    if (cert.notBefore > now || cert.notAfter < now) problems.push(`it is not valid now (${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
    if (problems.length) throw new Error(`the OCSP responder certificate is not usable: ${problems.join("; ")}`);
  }

  private async sign(serialHex: string, status: SingleStatus, thisUpdate: Date, nextUpdate: Date): Promise<Buffer[]> {
    const serial = Buffer.from(serialHex, "hex");
    const out: Buffer[] = [];
    for (const hash of this.hashes) {
      const tbs = responseData({ hash, ...this.issuer[hash], serial, status, thisUpdate, nextUpdate, responderKeyHash: this.responderKeyHash });
      const signature = await this.o.signer.signDigest(createHash(this.o.signer.hash).update(tbs).digest());
      out.push(ocspResponse(tbs, this.o.signer.signatureAlgorithm, signature, [this.o.responderCertificate]));
    }
    return out;
  }

  /**
   * One pass: pick up issuances and revocations since the last pass (with a 60 s overlap for
   * transactions that committed late) — on the first pass every issued or revoked, unexpired
   * certificate — refresh what is due, sign, push. Rows are read `batchSize` at a time in serial
   * order (keyset pagination: `serial > last ORDER BY serial LIMIT n`, no transaction held open
   * while the HSM signs), and each page is signed and pushed before the next is read.
   */
  async syncOnce(): Promise<{ signed: number; pushed: number; batches: number }> {
    const now = this.o.now?.() ?? new Date();
    const nowMs = now.getTime();
    const batch = this.o.batchSize ?? 10_000;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batchSize must be a positive integer, not ${batch}`);
    const [{ t }] = await this.o.db.query<{ t: string }>("SELECT now()::text AS t");
    const refreshMs = this.o.config.ocsp.refreshHours * 3_600_000;
    // Due for refresh among what was known before this pass (responses the pass signs below are
    // not refreshed again in it); expired certificates are dropped once their last responses run out.
    const refresh = new Set<string>();
    for (const [serial, e] of this.entries) {
      if (e.notAfter < nowMs && e.signedAt + refreshMs <= nowMs) this.entries.delete(serial);
      else if (e.signedAt + refreshMs <= nowMs) refresh.add(serial);
    }
    const thisUpdate = new Date(Math.floor(nowMs / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + this.o.config.ocsp.responseValidityHours * 3_600_000);
    let attempted = 0;
    let failed = 0;
    let pushed = 0;
    let batches = 0;
    let pushedThisPass = false;
    const signAll = async (serials: string[]): Promise<Buffer[]> => {
      const fresh: Buffer[] = [];
      let i = 0;
      const worker = async () => {
        while (i < serials.length) {
          const s = serials[i++];
          const e = this.entries.get(s)!;
          try {
            e.responses = await this.sign(s, { status: e.status, revokedAt: e.revokedAt ?? undefined, reason: e.reason }, thisUpdate, nextUpdate);
            e.signedAt = nowMs;
            fresh.push(...e.responses);
          } catch {
            failed++; // HSM away: retried next pass, the previous responses stay valid until they expire
          }
        }
      };
      attempted += serials.length;
      await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, Math.max(1, serials.length)) }, worker));
      return fresh;
    };
    const push = async (fresh: Buffer[]): Promise<void> => {
      if (!this.o.push) return;
      pushedThisPass = true;
      const r = await this.o.push(fresh);
      pushed += fresh.length;
      if (r.instance !== this.lastInstance) {
        // the responder restarted (or this is the first push): give it everything, a page at a time
        for (const chunk of this.allChunks(batch * this.hashes.length)) {
          await this.o.push(chunk);
          pushed += chunk.length;
        }
        this.lastInstance = r.instance;
      }
    };
    const cols = "serial, status, revoked_at, revocation_reason, not_after";
    const where =
      this.watermark === null
        ? `ca_name = $1 AND status IN ('issued', 'revoked') AND not_after > now()`
        : `ca_name = $1 AND status IN ('issued', 'revoked') AND (issued_at > $4::timestamptz - interval '60 seconds' OR revoked_at > $4::timestamptz - interval '60 seconds')`;
    const sql = `SELECT ${cols} FROM certificates WHERE ${where} AND serial > $2 ORDER BY serial LIMIT $3`;
    let audited = false;
    const auditPass = async () => {
      if (audited || !attempted) return;
      audited = true;
      await this.audit.append(failed ? "ocsp.sign.failed" : "ocsp.sign", "system", {
        ca: this.name,
        signed: attempted - failed,
        failed,
        hashes: [...this.hashes],
        thisUpdate: thisUpdate.toISOString(),
        nextUpdate: nextUpdate.toISOString(),
      });
    };
    try {
      for (let after = ""; ; ) {
        const rows = await this.o.db.query<{ serial: string; status: "issued" | "revoked"; revoked_at: Date | string | null; revocation_reason: number | null; not_after: Date | string }>(
          sql,
          this.watermark === null ? [this.name, after, batch] : [this.name, after, batch, this.watermark],
        );
        if (!rows.length) break;
        batches++;
        const due: string[] = [];
        for (const r of rows) {
          const status = r.status === "revoked" ? "revoked" : "good";
          const reason = r.revocation_reason ?? null;
          const e = this.entries.get(r.serial);
          if (!e || e.status !== status || e.reason !== reason) {
            const notAfter = new Date(r.not_after).getTime();
            refresh.delete(r.serial);
            if (notAfter < nowMs) {
              this.entries.delete(r.serial); // changed after it expired: nothing to sign
              continue;
            }
            this.entries.set(r.serial, { status, revokedAt: r.revoked_at ? new Date(r.revoked_at) : null, reason, notAfter, signedAt: 0, responses: e?.responses ?? [] });
            due.push(r.serial);
          }
        }
        const fresh = await signAll(due);
        if (fresh.length) await push(fresh);
        if (rows.length < batch) break;
        after = rows[rows.length - 1].serial;
      }
      const rest = [...refresh];
      for (let i = 0; i < rest.length; i += batch) {
        const fresh = await signAll(rest.slice(i, i + batch));
        if (fresh.length) await push(fresh);
      }
    } catch (err) {
      await auditPass().catch(() => undefined); // the signatures made before the failure (DB permitting)
      throw err;
    }
    await auditPass();
    if (failed) throw new Error(`${failed} of ${attempted} OCSP responses could not be signed`);
    this.watermark = t;
    if (!pushedThisPass) await push([]); // nothing new: still notices a responder that restarted empty
    return { signed: attempted, pushed, batches };
  }

  /** Every current response, `size` at a time. */
  *allChunks(size: number): Generator<Buffer[]> {
    let out: Buffer[] = [];
    for (const e of this.entries.values()) {
      out.push(...e.responses);
      if (out.length >= size) {
        yield out;
        out = [];
      }
    }
    if (out.length) yield out;
  }

  /** Every current response. */
  all(): Buffer[] {
    return [...this.entries.values()].flatMap((e) => e.responses);
  }

  /** Long-running: a pass every `pollSeconds` (≤ 30). A failed pass (HSM, DB or responder away)
   *  is retried at the next; nothing already pushed is withdrawn. */
  async run(o: { pollSeconds?: number; signal: AbortSignal; onPass?: (r: { signed: number; pushed: number }) => void; onError?: (e: unknown) => void }): Promise<void> {
    const poll = Math.min(o.pollSeconds ?? 10, 30) * 1000;
    while (!o.signal.aborted) {
      try {
        o.onPass?.(await this.syncOnce());
      } catch (err) {
        this.lastInstance = null; // push everything again once things are back
        o.onError?.(err);
      }
      // timers/promises removes its abort listener when the timer fires: none piles up per poll
      await delay(poll, undefined, { signal: o.signal }).catch(() => undefined);
    }
  }
}
