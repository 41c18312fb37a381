/**
 * The issuing CA without its HTTP shell: issues and revokes end-entity certificates on the RA's
 * approved requests (style 7: split by privilege — only the RA's client identity may call
 * issue/revoke). The HTTP shell is ./http.ts, the start-up of the role ../roles/issuing-ca.ts.
 */
import { createHash, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { AuditLog, canonicalJson } from "../audit/log.js";
import type { ConfigSource } from "../config/load.js";
import { IssuingCaServiceConfig, SUBJECT_ATTRIBUTES } from "../config/schema.js";
import { HsmUnavailableError, Pkcs11Token, type Pkcs11Signer } from "../pkcs11/index.js";
import { VerifyPool } from "../pki/verify-pool.js";
import {
  compileProfile,
  CsrError,
  issuerCoverageProblems,
  issuerFromCertificate,
  issuerPublicKey,
  LintError,
  parseCsr,
  prepareCertificate,
  randomSerial,
  SignatureCheckError,
  signCertificate,
  toPem,
  type CompiledProfile,
} from "../pki/index.js";
import type { Database } from "../storage/db.js";
import {
  CertificateStore,
  IdempotencyConflictError,
  InvalidityDateError,
  isSubscriberRevocationReason,
  REVOCATION_REASONS,
  SerialCollisionError,
  SUBSCRIBER_REVOCATION_REASONS,
  type RevocationReason,
} from "../storage/store.js";
import { ATTRIBUTE_OIDS } from "../pki/names.js";
import { TAG } from "../pki/der.js";
import type { ParsedCsr } from "../pki/csr.js";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 date-time with a time zone, floored to the second; undefined when it is not one
 *  (also for calendar-impossible dates such as 2026-02-30, which Date.parse would roll over). */
export function parseInvalidityDate(v: unknown): Date | undefined {
  if (typeof v !== "string") return undefined;
  const m = RFC3339.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const fields = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  if (fields.getUTCFullYear() !== y || fields.getUTCMonth() !== mo - 1 || fields.getUTCDate() !== d || fields.getUTCHours() !== h || fields.getUTCMinutes() !== mi || fields.getUTCSeconds() !== se) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return new Date(Math.floor(t / 1000) * 1000);
}

/** ISO 8601 in UTC without milliseconds (they are always 0 here). */

/** ISO 8601 in UTC without milliseconds (they are always 0 here). */
export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join("; "));
  }
}

export interface IssueRequest {
  readonly profile: string;
  readonly csr: string;
  readonly validityDays?: number;
  /** The subject and subjectAltNames from the RA's vetted data: they replace the CSR's subject
   *  and its requested extensions, which the CA then ignores (the CSR gives the key and the
   *  proof of possession only). Linted by the same profile rules. ADR 0061. */
  readonly subject?: VettedSubject;
  /** The RA's idempotency key (its application id): a retry with the same key and the same
   *  request returns the certificate already issued, never a second one. ADR 0061. */
  readonly idempotencyKey?: string;
}

export interface VettedSubject {
  readonly attributes: readonly { readonly type: string; readonly value: string }[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
}

/** The CSR with its subject and SANs replaced by vetted ones (its key and signature kept). */
export function withVettedSubject(csr: ParsedCsr, v: VettedSubject): ParsedCsr {
  const unknown = v.attributes.filter((a) => !(SUBJECT_ATTRIBUTES as readonly string[]).includes(a.type)).map((a) => a.type);
  if (unknown.length) throw new ApiError(400, "bad_request", [`subject attribute(s) ${unknown.join(", ")} unknown (known: ${SUBJECT_ATTRIBUTES.join(", ")})`]);
  return {
    ...csr,
    subject: v.attributes.map((a) => ({ oid: ATTRIBUTE_OIDS[a.type as keyof typeof ATTRIBUTE_OIDS], type: a.type, tag: TAG.UTF8String, value: a.value, rdnSize: 1 })),
    san: { dns: [...v.dns], email: [...v.email], other: [] },
    extensions: [],
  };
}

export interface IssuingCaOptions {
  readonly config: IssuingCaServiceConfig;
  readonly db: Database;
  /** The user PIN (read by the caller from the file config.hsm.pinFile). */
  readonly pin: string;
  /** DER of this CA's certificate. */
  readonly caCertificate: Buffer;
  /** Session pool size. @default 8 */
  readonly poolSize?: number;
  /** Intents younger than this are another replica's in-flight issuances and are not
   *  reconciled (storage/store.ts). @default 120 */
  readonly reconcileGraceSeconds?: number;
  /** Worker threads for the verify-after-sign (pki/verify-pool.ts; 0: on the event loop).
   *  @default 1 */
  readonly verifyThreads?: number;
  /** Where the configuration was read from and the SHA-256 of the file's bytes (audited as
   *  `config.loaded`, comparable with `sha256sum ca-config.json`). Without it the SHA-256 of
   *  the configuration's canonical JSON is audited. */
  readonly configSource?: ConfigSource;
}

/** The issuing CA without its HTTP shell. */
export class IssuingCa {
  static async start(o: IssuingCaOptions): Promise<IssuingCa> {
    const config = IssuingCaServiceConfig.parse(o.config);
    const audit = new AuditLog(o.db);
    const token = await Pkcs11Token.open({ library: config.hsm.library, tokenLabel: config.hsm.tokenLabel, pin: o.pin, poolSize: o.poolSize });
    let verifyPool: VerifyPool | undefined;
    let started = false;
    try {
      const signer = await token.signer(config.hsm.keyLabel, config.keyAlgorithm);
      const issuer = issuerFromCertificate(o.caCertificate, config.keyAlgorithm, config.urls);
      if (!issuer.spki.equals(signer.spki)) {
        throw new Error(`the CA certificate's public key is not the key "${config.hsm.keyLabel}" in token "${config.hsm.tokenLabel}"`);
      }
      // The CA certificate must cover every profile before anything is signed (profile.ts).
      const uncovered = Object.entries(config.profiles).flatMap(([n, p]) => issuerCoverageProblems(n, p, issuer));
      if (uncovered.length) throw new Error(`the CA certificate does not cover its profiles:\n  - ${uncovered.join("\n  - ")}`);
      const profiles = new Map(Object.entries(config.profiles).map(([n, p]) => [n, compileProfile(n, p, issuer)]));
      const threads = o.verifyThreads ?? 1;
      verifyPool = threads > 0 ? new VerifyPool(issuer.spki, threads) : undefined;
      const ca = new IssuingCa(config, o.db, token, signer, profiles, issuerPublicKey(issuer.spki), audit, verifyPool);
      // Configuration change (BR 5.4.1, NCSSR 3): which configuration this run enforces.
      await audit.append("config.loaded", "system", {
        role: "issuing-ca",
        ca: config.name,
        environment: config.environment,
        source: o.configSource?.path ?? "(in-process object; SHA-256 of its canonical JSON)",
        sha256: o.configSource?.sha256 ?? createHash("sha256").update(canonicalJson(config)).digest("hex"),
        profiles: [...profiles.keys()],
        keyAlgorithm: config.keyAlgorithm,
        key: config.hsm.keyLabel,
        token: config.hsm.tokenLabel,
        raClientSubject: config.raClientSubject,
      });
      await audit.append("service.start", "system", { role: "issuing-ca", ca: config.name, environment: config.environment, profiles: [...profiles.keys()] });
      started = true;
      await audit.append("hsm.login", "system", { token: config.hsm.tokenLabel, key: config.hsm.keyLabel });
      ca.reconcileGraceSeconds = o.reconcileGraceSeconds ?? 120;
      const reconciled = await ca.store.reconcile("system", ca.reconcileGraceSeconds);
      if (reconciled.length) ca.reconciledAtStart = reconciled;
      return ca;
    } catch (err) {
      // a start that fails after service.start was recorded is recorded as failed (BR 5.4.1)
      if (started) await audit.append("service.start.failed", "system", { role: "issuing-ca", ca: config.name, reason: (err as Error)?.message ?? String(err) }).catch(() => undefined);
      await verifyPool?.close();
      token.close();
      throw err;
    }
  }

  /** The start failed after {@link start} returned (e.g. the port is taken): audited as
   *  `service.start.failed` (not a stop), then the HSM session and workers are closed. */
  async abortStart(reason: string): Promise<void> {
    await this.audit.append("service.start.failed", "system", { role: "issuing-ca", ca: this.config.name, reason }).catch(() => undefined);
    await this.verifyPool?.close();
    this.token.close();
  }

  readonly store: CertificateStore;
  reconciledAtStart: string[] = [];
  reconcileGraceSeconds = 120;
  private hsmWasDown = false;

  private constructor(
    readonly config: IssuingCaServiceConfig,
    readonly db: Database,
    readonly token: Pkcs11Token,
    readonly signer: Pkcs11Signer,
    readonly profiles: ReadonlyMap<string, CompiledProfile>,
    private readonly issuerKey: KeyObject,
    readonly audit: AuditLog,
    private readonly verifyPool?: VerifyPool,
  ) {
    this.store = new CertificateStore(db, config.name);
  }

  private async reject(actor: string, requestId: string, err: ApiError, details: Record<string, unknown>): Promise<never> {
    await this.audit.append("cert.request.rejected", actor, { ca: this.config.name, requestId, status: err.status, code: err.code, problems: err.problems, ...details });
    throw err;
  }

  /**
   * Lint → reserve (serial + intent) → sign in the HSM → verify → store. With an idempotency key:
   * a live record for the key answers instead (issued or revoked: that certificate, `replayed`;
   * an intent in progress: 409), and the same key with another request is refused (422).
   */
  async issue(req: IssueRequest, actor: string, requestId = randomUUID()): Promise<{ serial: string; certificate: string; replayed?: true }> {
    this.authorize(actor, "issue");
    const profile = this.profiles.get(req.profile);
    if (!profile) {
      return this.reject(actor, requestId, new ApiError(422, "unknown_profile", [`profile "${req.profile}" does not exist (known: ${[...this.profiles.keys()].join(", ")})`]), { profile: req.profile });
    }
    let idem: { key: string; requestSha256: string } | undefined;
    if (req.idempotencyKey !== undefined) {
      idem = {
        key: req.idempotencyKey,
        requestSha256: createHash("sha256")
          .update(canonicalJson({ profile: req.profile, csr: req.csr.trim(), validityDays: req.validityDays ?? null, subject: req.subject ?? null }))
          .digest("hex"),
      };
      const live = await this.store.byIdempotencyKey(idem.key);
      if (live) {
        if (live.requestSha256 !== idem.requestSha256) {
          return this.reject(actor, requestId, new ApiError(422, "idempotency_key_reused", [`idempotency key ${idem.key} was used for another request (certificate ${live.serial})`]), {
            profile: req.profile,
            idempotencyKey: idem.key,
          });
        }
        if (live.status === "intent") throw new ApiError(409, "in_progress", [`the request with idempotency key ${idem.key} is in progress (serial ${live.serial}); retry later`]);
        return { serial: live.serial, certificate: toPem(live.der!), replayed: true };
      }
    }
    const prepare = () => {
      const csr = parseCsr(req.csr);
      return prepareCertificate(profile, req.subject ? withVettedSubject(csr, req.subject) : csr, { serial: randomSerial(), validityDays: req.validityDays });
    };
    let prepared: ReturnType<typeof prepare>;
    try {
      prepared = prepare();
    } catch (err) {
      if (err instanceof CsrError) return this.reject(actor, requestId, new ApiError(400, "bad_csr", [err.message]), { profile: req.profile });
      if (err instanceof LintError) return this.reject(actor, requestId, new ApiError(422, "lint_failed", err.problems), { profile: req.profile });
      if (err instanceof ApiError) return this.reject(actor, requestId, err, { profile: req.profile });
      throw err;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.reserve(prepared, actor, requestId, idem);
        break;
      } catch (err) {
        if (err instanceof IdempotencyConflictError) throw new ApiError(409, "in_progress", [`${err.message}; retry later`]);
        // 126 random bits: a collision is astronomically unlikely, but never reuse a serial.
        if (!(err instanceof SerialCollisionError) || attempt > 2) throw err;
        prepared = prepare();
      }
    }
    let der: Buffer;
    try {
      der = await signCertificate(profile, prepared, this.signer, this.issuerKey, this.verifyPool?.verify);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.store.fail(prepared.serial, reason, actor);
      // The HSM made a signature that is discarded: its key use gets a record of its own
      // (an issued certificate's key use is in its cert.issue record; ADR 0012).
      if (err instanceof SignatureCheckError) await this.audit.append("key.use", actor, { ...this.keyUse(prepared.serial), outcome: "discarded", reason });
      if (err instanceof HsmUnavailableError) {
        if (!this.hsmWasDown) {
          this.hsmWasDown = true;
          await this.audit.append("hsm.unavailable", "system", { token: this.config.hsm.tokenLabel, reason });
        }
        throw new ApiError(503, "hsm_unavailable", [reason]);
      }
      if (err instanceof SignatureCheckError) throw new ApiError(500, "signature_check_failed", [reason]);
      throw err;
    }
    // The key use (BR 5.4.1 "key use", NCSSR 3) is recorded in this cert.issue record, in the
    // transaction that stores the certificate: one record per signature (ADR 0012).
    await this.store.complete(prepared.serial, der, actor, { profile: profile.name, requestId, ...this.keyUse(prepared.serial) });
    if (this.hsmWasDown) {
      this.hsmWasDown = false;
      await this.audit.append("hsm.recovered", "system", { token: this.config.hsm.tokenLabel });
    }
    return { serial: prepared.serial.toString("hex"), certificate: toPem(der) };
  }

  /**
   * Revokes with an RFC 5280 5.3.1 reason and an optional RFC 5280 5.3.2 invalidityDate (RFC 3339
   * text with a time zone; kept to the second, as the CRL carries it). The date may not be in the
   * future (later than the revocation) nor before the certificate's notBefore. Every refusal is
   * audited as `cert.revoke.rejected`, and nothing is written.
   */
  async revoke(serial: string, reason: string, actor: string, invalidityDate?: unknown): Promise<{ invalidityDate?: string }> {
    this.authorize(actor, "revoke");
    const refuse = async (err: ApiError): Promise<never> => {
      await this.audit.append("cert.revoke.rejected", actor, {
        ca: this.config.name,
        serial,
        reason,
        ...(invalidityDate !== undefined ? { invalidityDate } : {}),
        status: err.status,
        code: err.code,
        problems: err.problems,
      });
      throw err;
    };
    if (!isSubscriberRevocationReason(reason)) {
      const allowed = `allowed: ${SUBSCRIBER_REVOCATION_REASONS.join(", ")}`;
      return refuse(
        new ApiError(400, "bad_reason", [
          Object.hasOwn(REVOCATION_REASONS, reason)
            ? `reason "${reason}" must never be published for a subscriber certificate (BR 7.2.2, 4.9.13; RFC 5280 5.3.1); ${allowed}`
            : `reason "${reason}" is not an RFC 5280 CRLReason; ${allowed} (BR 7.2.2)`,
        ]),
      );
    }
    if (!/^[0-9a-f]{2,40}$/.test(serial)) return refuse(new ApiError(400, "bad_serial", [`serial "${serial}" is not lower-case hex`]));
    let inv: Date | undefined;
    if (invalidityDate !== undefined) {
      inv = parseInvalidityDate(invalidityDate);
      if (!inv) {
        return refuse(new ApiError(400, "bad_invalidity_date", [`"invalidityDate" must be an RFC 3339 date-time with a time zone, e.g. "2026-01-02T03:04:05Z" (got ${JSON.stringify(invalidityDate)})`]));
      }
    }
    let r: Awaited<ReturnType<CertificateStore["revoke"]>>;
    try {
      r = await this.store.revoke(serial, reason as RevocationReason, actor, { invalidityDate: inv });
    } catch (err) {
      if (err instanceof InvalidityDateError) return refuse(new ApiError(422, "bad_invalidity_date", [err.message]));
      throw err;
    }
    if (r === "not-found") return refuse(new ApiError(404, "not_found", [`no issued certificate with serial ${serial}`]));
    if (r === "already-revoked") return refuse(new ApiError(409, "already_revoked", [`certificate ${serial} is already revoked`]));
    return inv ? { invalidityDate: isoSeconds(inv) } : {};
  }

  /** What a certificate signature used: key label, token, purpose and the serial signed. */
  private keyUse(serial: Buffer): { key: string; token: string; keyAlgorithm: string; purpose: "certificate"; serial: string } {
    return { key: this.config.hsm.keyLabel, token: this.config.hsm.tokenLabel, keyAlgorithm: this.config.keyAlgorithm, purpose: "certificate", serial: serial.toString("hex") };
  }

  /** Only the RA may issue and revoke (NCSSR 2.2, style 7). Refusals are audited by the caller. */
  authorize(actor: string, action: string): void {
    if (actor !== this.config.raClientSubject) {
      throw new ApiError(403, "forbidden", [`client "${actor}" may not ${action}: only the RA (${this.config.raClientSubject}) may`]);
    }
  }

  async health(): Promise<{ ok: boolean; hsm: { ok: boolean; reason?: string }; db: { ok: boolean; reason?: string } }> {
    const h = await this.token.health();
    let db: { ok: boolean; reason?: string } = { ok: true };
    try {
      await this.db.query("SELECT 1");
    } catch (err) {
      db = { ok: false, reason: (err as Error).message };
    }
    if (h.ok && this.hsmWasDown) {
      this.hsmWasDown = false;
      await this.audit.append("hsm.recovered", "system", { token: this.config.hsm.tokenLabel }).catch(() => undefined);
    }
    return { ok: h.ok && db.ok, hsm: { ok: h.ok, ...(h.reason ? { reason: h.reason } : {}) }, db };
  }

  async stop(): Promise<void> {
    await this.audit.append("service.stop", "system", { role: "issuing-ca", ca: this.config.name }).catch(() => undefined);
    await this.verifyPool?.close();
    this.token.close();
  }
}
