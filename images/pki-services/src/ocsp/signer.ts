/**
 * The OCSP signer (`ocsp-responder --sign-only`, issuing zone: HSM + database): keeps a signed
 * response for every issued, unexpired certificate of its CA, for SHA-1 and SHA-256 CertIDs;
 * re-signs a certificate's responses within one poll (≤ 30 s) of its issuance or revocation and
 * all of them after `ocsp.refreshHours` (before half their validity, BR 4.9.9); and pushes them
 * to the public responder, which holds no key and no database (docs/adr/0051).
 */
import "reflect-metadata";
import { createHash } from "node:crypto";
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
    throw new Error(`'ocsp.refreshHours' (${c.refreshHours}) must be at most ${max} for ${v}-hour responses (BR 4.9.9: ${v < 16 ? "before half the validity" : "8 hours before nextUpdate and within 4 days of thisUpdate"})`);
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

  /** One pass: pick up issuances and revocations since the last pass (with a 60 s overlap for
   *  transactions that committed late), refresh what is due, sign, push. */
  async syncOnce(): Promise<{ signed: number; pushed: number }> {
    const now = this.o.now?.() ?? new Date();
    const nowMs = now.getTime();
    const [{ t }] = await this.o.db.query<{ t: string }>("SELECT now()::text AS t");
    const cols = "serial, status, revoked_at, revocation_reason, not_after";
    const rows = await this.o.db.query<{ serial: string; status: "issued" | "revoked"; revoked_at: Date | string | null; revocation_reason: number | null; not_after: Date | string }>(
      this.watermark === null
        ? `SELECT ${cols} FROM certificates WHERE ca_name = $1 AND status IN ('issued', 'revoked') AND not_after > now()`
        : `SELECT ${cols} FROM certificates WHERE ca_name = $1 AND status IN ('issued', 'revoked')
             AND (issued_at > $2::timestamptz - interval '60 seconds' OR revoked_at > $2::timestamptz - interval '60 seconds')`,
      this.watermark === null ? [this.name] : [this.name, this.watermark],
    );
    const due = new Set<string>();
    for (const r of rows) {
      const status = r.status === "revoked" ? "revoked" : "good";
      const reason = r.revocation_reason ?? null;
      const e = this.entries.get(r.serial);
      if (!e || e.status !== status || e.reason !== reason) {
        this.entries.set(r.serial, { status, revokedAt: r.revoked_at ? new Date(r.revoked_at) : null, reason, notAfter: new Date(r.not_after).getTime(), signedAt: 0, responses: e?.responses ?? [] });
        due.add(r.serial);
      }
    }
    const refreshMs = this.o.config.ocsp.refreshHours * 3_600_000;
    for (const [serial, e] of this.entries) {
      if (e.notAfter < nowMs && e.signedAt + refreshMs <= nowMs) this.entries.delete(serial); // expired: let the last responses run out
      else if (e.signedAt + refreshMs <= nowMs) due.add(serial);
    }
    const thisUpdate = new Date(Math.floor(nowMs / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + this.o.config.ocsp.responseValidityHours * 3_600_000);
    const fresh: Buffer[] = [];
    const queue = [...due];
    let failed = 0;
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
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
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, Math.max(1, queue.length)) }, worker));
    if (due.size) {
      await this.audit.append(failed ? "ocsp.sign.failed" : "ocsp.sign", "system", { ca: this.name, signed: due.size - failed, failed, hashes: [...this.hashes], thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString() });
    }
    if (failed) throw new Error(`${failed} of ${due.size} OCSP responses could not be signed`);
    this.watermark = t;
    let pushed = 0;
    if (this.o.push) {
      const r = await this.o.push(fresh);
      pushed = fresh.length;
      if (r.instance !== this.lastInstance) {
        // the responder restarted (or this is the first push): give it everything
        const all = this.all();
        await this.o.push(all);
        pushed = all.length;
        this.lastInstance = r.instance;
      }
    }
    return { signed: due.size, pushed };
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
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, poll);
        o.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  }
}
