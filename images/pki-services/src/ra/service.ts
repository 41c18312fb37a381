/**
 * The RA service without its HTTP shell (style 8): applications, vetting with four-eyes,
 * enrollment codes, issuance through the issuing CA, delivery, revocation, renewal, reports.
 * Every state change is one transaction that also appends the audit record naming the human who
 * made it (BR 5.4.1, NCSSR 3): a refusal writes nothing but its own audit record. ADR 0060.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual, X509Certificate } from "node:crypto";
import { appendAudit, type AuditLog } from "../audit/log.js";
import { CsrError, parseCsr } from "../pki/csr.js";
import type { Database } from "../storage/db.js";
import { requireRole, type Actor, SYSTEM_ACTOR } from "./auth.js";
import { CaCallError, type CaClient, type VettedSubject } from "./ca-client.js";
import type { RaKind, RaServiceConfig } from "./config.js";
import { FINAL_STATES, VETTING_ACTIONS, type State, type VettingActionName } from "./states.js";

export class RaError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join("; "));
  }
}

/** BR 7.2.2 CRLReasons an RA operator may give for a subscriber certificate (certificateHold is
 *  forbidden; unspecified means no reasonCode in the CRL entry). */
export const OPERATOR_REVOCATION_REASONS = ["unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation", "privilegeWithdrawn"] as const;
/** BR 7.2.2: privilegeWithdrawn SHOULD NOT be offered to the subscriber. */
export const SUBSCRIBER_REVOCATION_REASONS = ["unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"] as const;

export interface Application {
  readonly id: string;
  readonly kind: string;
  readonly state: State;
  readonly fields: Record<string, string>;
  readonly csr: string | null;
  readonly submittedBy: string;
  readonly officer: string | null;
  readonly approver: string | null;
  readonly reason: string | null;
  readonly batchId: string | null;
  readonly batchRow: number | null;
  readonly renewalOf: string | null;
  readonly serial: string | null;
  readonly certificate: string | null;
  readonly notAfter: string | null;
  readonly revocationReason: string | null;
  readonly issueError: string | null;
  readonly enrollmentExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly approvedAt: string | null;
  readonly issuedAt: string | null;
}

const iso = (v: unknown): string | null => (v == null ? null : new Date(v as string).toISOString());

export function rowToApplication(r: Record<string, unknown>): Application {
  return {
    id: r.id as string,
    kind: r.kind as string,
    state: r.state as State,
    fields: (typeof r.fields === "string" ? JSON.parse(r.fields) : r.fields) as Record<string, string>,
    csr: (r.csr as string | null) ?? null,
    submittedBy: r.submitted_by as string,
    officer: (r.officer as string | null) ?? null,
    approver: (r.approver as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    batchId: (r.batch_id as string | null) ?? null,
    batchRow: r.batch_row == null ? null : Number(r.batch_row),
    renewalOf: (r.renewal_of as string | null) ?? null,
    serial: (r.serial as string | null) ?? null,
    certificate: (r.certificate as string | null) ?? null,
    notAfter: iso(r.not_after),
    revocationReason: (r.revocation_reason as string | null) ?? null,
    issueError: (r.issue_error as string | null) ?? null,
    enrollmentExpiresAt: iso(r.enrollment_expires_at),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    approvedAt: iso(r.approved_at),
    issuedAt: iso(r.issued_at),
  };
}

export const sha256hex = (s: string | Buffer): string => createHash("sha256").update(s).digest("hex");
/** 256-bit secret, base64url (access tokens, revocation secrets). */
const newSecret = (): string => randomBytes(32).toString("base64url");
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"; // no 0/O, 1/I/L, U
/** A one-time enrollment code: 20 characters from 30 (≈ 98 bits), in groups of 4 for reading aloud. */
function newEnrollmentCode(): string {
  const bytes = randomBytes(40);
  let out = "";
  for (let i = 0; out.replace(/-/g, "").length < 20; i++) {
    if (bytes[i] >= 240) continue; // 240 = 8 × 30: no modulo bias
    out += CODE_ALPHABET[bytes[i] % 30];
    if (out.replace(/-/g, "").length % 4 === 0 && out.replace(/-/g, "").length < 20) out += "-";
  }
  return out;
}
const normaliseCode = (c: string): string =>
  c
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "")
    .replace(/(.{4})(?=.)/g, "$1-");

/** Characters refused in any field: C0/C1 controls, and markup that a page or a mail could run
 *  (the pages escape too; the RA keeps no value that needs it). */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f<>]/;

/** Escapes what PostgreSQL refuses in jsonb (NUL, lone surrogates) before a hostile value is audited. */
export function auditSafe<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === "string" ? x.replace(/\u0000/g, "\\u0000").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`) : x,
    ),
  ) as T;
}

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** Checks an application's fields against its kind: unknown fields, missing required ones, length,
 *  pattern, fixed values, forbidden characters. Returns the normalised fields (fixed ones set). */
export function validateFields(kindName: string, kind: RaKind, input: Record<string, unknown>): { fields: Record<string, string>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const fields: Record<string, string> = {};
  for (const k of Object.keys(input)) {
    if (!Object.hasOwn(kind.fields, k)) problems.push({ field: k, message: `unknown field for kind "${kindName}" (known: ${Object.keys(kind.fields).join(", ")})` });
  }
  for (const [name, f] of Object.entries(kind.fields)) {
    const raw = input[name];
    if (f.fixed !== undefined) {
      if (raw !== undefined && raw !== "" && raw !== f.fixed) problems.push({ field: name, message: `is fixed to "${f.fixed}" for kind "${kindName}" (got ${JSON.stringify(raw)})` });
      fields[name] = f.fixed;
      continue;
    }
    if (raw === undefined || raw === null || raw === "") {
      if (f.required) problems.push({ field: name, message: `is required for kind "${kindName}"` });
      continue;
    }
    if (typeof raw !== "string") {
      problems.push({ field: name, message: `must be text (got ${typeof raw})` });
      continue;
    }
    const v = raw.normalize("NFC");
    if (FORBIDDEN.test(v)) {
      const c = FORBIDDEN.exec(v)![0];
      problems.push({
        field: name,
        message: `contains a character that is not allowed (U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} at position ${v.indexOf(c) + 1}): control characters and < > are refused`,
      });
      continue;
    }
    if (v.trim() !== v) {
      problems.push({ field: name, message: "has leading or trailing spaces" });
      continue;
    }
    const len = [...v].length;
    if (len > f.maxLength) {
      problems.push({ field: name, message: `has ${len} characters, more than ${f.maxLength}` });
      continue;
    }
    if (f.pattern && !new RegExp(`^(?:${f.pattern})$`, "u").test(v)) {
      problems.push({ field: name, message: `"${v}" does not match the required form /${f.pattern}/` });
      continue;
    }
    fields[name] = v;
  }
  return { fields, problems };
}

/** The certificate's subject from vetted fields only (never from the CSR). */
export function vettedSubject(kind: RaKind, fields: Record<string, string>): VettedSubject {
  const attributes: { type: string; value: string }[] = [];
  const dns: string[] = [];
  const email: string[] = [];
  for (const [name, f] of Object.entries(kind.fields)) {
    const v = fields[name];
    if (!f.maps || v === undefined) continue;
    if (f.maps === "san.dns")
      dns.push(
        ...v
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((d) => d.toLowerCase()),
      );
    else if (f.maps === "san.email") email.push(...v.split(/[\s,]+/).filter(Boolean));
    else attributes.push({ type: f.maps, value: v });
  }
  return { attributes, dns, email };
}

export interface RaServiceOptions {
  readonly config: RaServiceConfig;
  readonly db: Database;
  readonly audit: AuditLog;
  readonly ca: CaClient;
}

export class RaService {
  readonly config: RaServiceConfig;
  readonly db: Database;
  readonly audit: AuditLog;
  readonly ca: CaClient;
  private readonly inFlight = new Map<string, Promise<Application>>();

  constructor(o: RaServiceOptions) {
    this.config = o.config;
    this.db = o.db;
    this.audit = o.audit;
    this.ca = o.ca;
  }

  kind(name: string): RaKind {
    const k = this.config.kinds[name];
    if (!k) throw new RaError(422, "unknown_kind", [`kind "${name}" does not exist (known: ${Object.keys(this.config.kinds).join(", ")})`]);
    return k;
  }

  /** Parses the CSR and checks its key against the kind (BR 6.1.5) and its proof of possession. */
  checkCsr(kindName: string, csr: string): string {
    const kind = this.kind(kindName);
    let parsed: ReturnType<typeof parseCsr>;
    try {
      parsed = parseCsr(csr);
    } catch (err) {
      if (err instanceof CsrError) throw new RaError(400, "bad_csr", [`csr: ${err.message}`]);
      throw err;
    }
    if (!parsed.keyAlgorithm || !kind.allowedKeyAlgorithms.includes(parsed.keyAlgorithm)) {
      throw new RaError(422, "weak_key", [`csr: key ${parsed.keyDescription} is not allowed for kind "${kindName}" (allowed: ${kind.allowedKeyAlgorithms.join(", ")}) (BR 6.1.5)`]);
    }
    return `${csr.trim()}\n`;
  }

  /** A refusal: audited (with the hostile input escaped), nothing else written. */
  async refuse(actor: Actor, what: string, err: RaError, details: Record<string, unknown> = {}): Promise<never> {
    await this.audit.append("ra.request.rejected", actor.id, auditSafe({ what, status: err.status, code: err.code, problems: err.problems, ...this.actorDetails(actor), ...details }));
    throw err;
  }

  actorDetails(actor: Actor): Record<string, unknown> {
    return { ...(actor.certSerial ? { certSerial: actor.certSerial } : {}), ...(actor.roles.size ? { roles: [...actor.roles] } : {}), ...(actor.via ? { via: actor.via } : {}) };
  }

  async submit(actor: Actor, input: { kind: string; fields: Record<string, unknown>; csr?: string; renewalOf?: string }): Promise<{ application: Application; accessToken: string }> {
    try {
      const kind = this.kind(input.kind);
      const { fields, problems } = validateFields(input.kind, kind, input.fields);
      if (problems.length)
        throw new RaError(
          422,
          "invalid_fields",
          problems.map((p) => `fields.${p.field}: ${p.message}`),
        );
      const csr = input.csr ? this.checkCsr(input.kind, input.csr) : null;
      const accessToken = newSecret();
      const id = randomUUID();
      const app = await this.db.transaction(async (tx) => {
        const [row] = await tx.query<Record<string, unknown>>(
          `INSERT INTO ra_applications (id, kind, state, fields, csr, submitted_by, access_hash, renewal_of) VALUES ($1, $2, 'submitted', $3, $4, $5, $6, $7) RETURNING *`,
          [id, input.kind, JSON.stringify(fields), csr, actor.id, sha256hex(accessToken), input.renewalOf ?? null],
        );
        await appendAudit(tx, "ra.submit", actor.id, { application: id, kind: input.kind, withCsr: csr !== null, ...(input.renewalOf ? { renewalOf: input.renewalOf } : {}), ...this.actorDetails(actor) });
        return rowToApplication(row);
      });
      return { application: app, accessToken };
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, "submit", err, { kind: input.kind });
      throw err;
    }
  }

  async get(id: string): Promise<Application | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const [r] = await this.db.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE id = $1`, [id]);
    return r ? rowToApplication(r) : undefined;
  }

  async mustGet(actor: Actor, id: string, what: string): Promise<Application> {
    const a = await this.get(id);
    if (!a) return this.refuse(actor, what, new RaError(404, "not_found", [`no application ${id}`]), { application: id });
    return a;
  }

  /** The applicant's access: the token given at submission. */
  async checkAccess(actor: Actor, id: string, token: string | undefined, what: string): Promise<Application> {
    const [r] = /^[0-9a-f-]{36}$/.test(id) ? await this.db.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE id = $1`, [id]) : [];
    const ok = r && token && r.access_hash && timingSafeEqual(Buffer.from(sha256hex(token)), Buffer.from(r.access_hash as string));
    if (!ok) return this.refuse(actor, what, new RaError(404, "not_found", [`no application ${id} with this access token`]), { application: id });
    return rowToApplication(r);
  }

  async list(filter: { state?: string; kind?: string; batch?: string; limit?: number; offset?: number }): Promise<Application[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state) where.push(`state = $${params.push(filter.state)}`);
    if (filter.kind) where.push(`kind = $${params.push(filter.kind)}`);
    if (filter.batch) where.push(`batch_id = $${params.push(filter.batch)}`);
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM ra_applications ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, batch_row, id LIMIT $${params.push(filter.limit ?? 100)} OFFSET $${params.push(filter.offset ?? 0)}`,
      params,
    );
    return rows.map(rowToApplication);
  }

  /**
   * A vetting action (states.ts). Four-eyes: the approver is never the officer who accepted it
   * (checked here, and by a CHECK constraint of the table). Approval without a CSR makes a
   * one-time enrollment code, returned once.
   */
  async act(actor: Actor, id: string, action: VettingActionName, reason?: string): Promise<{ application: Application; enrollmentCode?: string }> {
    const spec = VETTING_ACTIONS[action];
    requireRole(actor, spec.roles, `${action} an application`); // AuthError: audited by the HTTP shell
    try {
      if (spec.reason && !reason?.trim()) throw new RaError(400, "reason_required", [`"reason" is required to ${action} an application`]);
      if (reason && (FORBIDDEN.test(reason.replace(/[\n\t]/g, " ")) || reason.length > 1000)) throw new RaError(400, "bad_reason", [`"reason" must be at most 1000 characters without control characters or < >`]);
      const r = await this.db.transaction(async (tx) => {
        const [cur] = await tx.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE id = $1 FOR UPDATE`, [id]);
        if (!cur) throw new RaError(404, "not_found", [`no application ${id}`]);
        const app = rowToApplication(cur);
        if (!(spec.from as readonly State[]).includes(app.state)) {
          throw new RaError(409, "bad_transition", [`cannot ${action} application ${id}: it is ${app.state} (allowed from: ${spec.from.join(", ")})`]);
        }
        if (action === "approve" && app.officer === actor.id) {
          throw new RaError(403, "four_eyes", [`${actor.id} accepted application ${id} as its vetting officer and may not also approve it: another vetting approver must (separation of duties, RFC 3647 5.2.4)`]);
        }
        let code: string | undefined;
        const sets = [`state = '${spec.to}'`, "updated_at = now()"];
        const params: unknown[] = [id];
        if (action === "accept") sets.push(`officer = $${params.push(actor.id)}`);
        if (action === "approve") {
          sets.push(`approver = $${params.push(actor.id)}`, "approved_at = now()");
          if (!app.csr) {
            code = newEnrollmentCode();
            sets.push(`enrollment_hash = $${params.push(sha256hex(code))}`, `enrollment_expires_at = now() + make_interval(secs => $${params.push(this.config.enrollmentCodeHours * 3600)})`);
          }
        }
        if (reason) sets.push(`reason = $${params.push(reason)}`);
        const [row] = await tx.query<Record<string, unknown>>(`UPDATE ra_applications SET ${sets.join(", ")} WHERE id = $1 RETURNING *`, params);
        await appendAudit(
          tx,
          `ra.${action}`,
          actor.id,
          auditSafe({ application: id, from: app.state, to: spec.to, ...(reason ? { reason } : {}), ...(code ? { enrollmentCode: "issued" } : {}), ...this.actorDetails(actor) }),
        );
        return { application: rowToApplication(row), enrollmentCode: code };
      });
      if (action === "approve" && r.application.csr) r.application = await this.issue(id).catch(() => r.application);
      return r;
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, action, err, { application: id });
      throw err;
    }
  }

  /** The applicant corrects a returned application (access token): back to submitted. */
  async resubmit(actor: Actor, id: string, token: string | undefined, input: { fields: Record<string, unknown>; csr?: string }): Promise<Application> {
    const app = await this.checkAccess(actor, id, token, "resubmit");
    try {
      if (app.state !== "returned") throw new RaError(409, "bad_transition", [`cannot correct application ${id}: it is ${app.state} (only a returned application can be corrected)`]);
      const { fields, problems } = validateFields(app.kind, this.kind(app.kind), input.fields);
      if (problems.length)
        throw new RaError(
          422,
          "invalid_fields",
          problems.map((p) => `fields.${p.field}: ${p.message}`),
        );
      const csr = input.csr ? this.checkCsr(app.kind, input.csr) : app.csr;
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<Record<string, unknown>>(`UPDATE ra_applications SET state = 'submitted', fields = $2, csr = $3, reason = NULL, updated_at = now() WHERE id = $1 AND state = 'returned' RETURNING *`, [
          id,
          JSON.stringify(fields),
          csr,
        ]);
        if (!row) throw new RaError(409, "bad_transition", [`application ${id} changed state meanwhile`]);
        await appendAudit(tx, "ra.resubmit", actor.id, { application: id, from: "returned", to: "submitted", ...this.actorDetails(actor) });
        return rowToApplication(row);
      });
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, "resubmit", err, { application: id });
      throw err;
    }
  }

  /** Issues an approved application that has a CSR: idempotency key = application id, so a
   *  retry (after a crash, a timeout, a second worker) returns the certificate already issued. */
  issue(id: string): Promise<Application> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = this.issueOnce(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private async issueOnce(id: string): Promise<Application> {
    const [r] = await this.db.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE id = $1`, [id]);
    const app = rowToApplication(r);
    if (app.state !== "approved" || !app.csr) return app;
    return (await this.callCa(app)).recorded;
  }

  /** The issuing CA's call for an approved application with a CSR; resolves once the CA has
   *  answered, with the recording of certificate, serial and audit record still running (the
   *  caller may ask the CA for the next one meanwhile: the idempotency key makes a crash before
   *  the recording a replay, ADR 0061). */
  private async callCa(app: Application): Promise<{ recorded: Promise<Application> }> {
    const id = app.id;
    const kind = this.kind(app.kind);
    let res: Awaited<ReturnType<CaClient["issue"]>>;
    try {
      res = await this.ca.issue({ profile: kind.profile, csr: app.csr!, subject: vettedSubject(kind, app.fields), idempotencyKey: id });
    } catch (err) {
      if (err instanceof CaCallError && err.permanent) {
        const msg = err.messages.join("; ");
        await this.db.transaction(async (tx) => {
          await tx.query(`UPDATE ra_applications SET issue_error = $2, updated_at = now() WHERE id = $1`, [id, msg]);
          await appendAudit(tx, "ra.issue.failed", SYSTEM_ACTOR.id, auditSafe({ application: id, status: err.status, code: err.code, problems: err.messages }));
        });
      }
      throw err;
    }
    const notAfter = notAfterOf(res.certificate);
    const recorded = this.db.transaction(async (tx) => {
      const [row] = await tx.query<Record<string, unknown>>(
        `UPDATE ra_applications SET state = 'issued', serial = $2, certificate = $3, not_after = $4, issued_at = now(), issue_error = NULL, updated_at = now() WHERE id = $1 AND state = 'approved' RETURNING *`,
        [id, res.serial, res.certificate, notAfter],
      );
      if (!row) return rowToApplication((await tx.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE id = $1`, [id]))[0]);
      await appendAudit(tx, "ra.issue", SYSTEM_ACTOR.id, { application: id, serial: res.serial, profile: kind.profile, approver: app.approver, officer: app.officer });
      return rowToApplication(row);
    });
    return { recorded };
  }

  /** Approved applications with a CSR not yet issued (after a crash, or a CA outage): issued
   *  with bounded concurrency at the CA; each lane asks the CA for the next application while the
   *  previous one is recorded. Returns how many were issued. */
  async issuePending(): Promise<number> {
    let done = 0;
    for (;;) {
      const rows = await this.db.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE state = 'approved' AND csr IS NOT NULL AND issue_error IS NULL ORDER BY approved_at, id LIMIT 500`);
      if (!rows.length) return done;
      let next = 0;
      let failed = 0;
      const recordings: Promise<void>[] = [];
      const count = (p: Promise<Application>) =>
        p.then(
          (a) => void (a.state === "issued" && done++),
          () => void failed++,
        );
      const worker = async () => {
        while (next < rows.length) {
          const app = rowToApplication(rows[next++]);
          const running = this.inFlight.get(app.id);
          if (running) {
            recordings.push(count(running)); // issued by another path (an approval) right now
            continue;
          }
          const called = this.callCa(app);
          const whole = called.then((c) => c.recorded);
          this.inFlight.set(app.id, whole);
          void whole.finally(() => this.inFlight.delete(app.id)).catch(() => undefined);
          try {
            await called;
          } catch {
            failed++;
            continue;
          }
          recordings.push(count(whole));
        }
      };
      await Promise.all(Array.from({ length: this.config.issuanceConcurrency }, worker));
      await Promise.all(recordings);
      if (failed) return done; // the CA is failing: the next sweep retries
    }
  }

  /** Enrollment: the holder's one-time code and CSR; the subject still comes from vetted data. */
  async enroll(actor: Actor, code: string, csr: string): Promise<{ application: Application; revocationSecret: string }> {
    const hash = sha256hex(normaliseCode(code));
    const [r] = await this.db.query<Record<string, unknown>>(`SELECT *, enrollment_expires_at < now() AS expired FROM ra_applications WHERE enrollment_hash = $1`, [hash]);
    try {
      if (!r) throw new RaError(404, "bad_enrollment_code", ["enrollment code unknown"]);
      if (r.enrollment_used_at) throw new RaError(409, "enrollment_code_used", ["enrollment code already used"]);
      if (r.expired || r.state === "expired") throw new RaError(410, "enrollment_code_expired", [`enrollment code expired at ${iso(r.enrollment_expires_at)}`]);
      if (r.state !== "approved") throw new RaError(409, "bad_transition", [`application ${r.id as string} is ${r.state as string}, not approved`]);
      const checked = this.checkCsr(r.kind as string, csr);
      const id = r.id as string;
      const used = await this.db.transaction(async (tx) => {
        const rows = await tx.query(`UPDATE ra_applications SET csr = $2, enrollment_used_at = now(), updated_at = now() WHERE id = $1 AND enrollment_used_at IS NULL AND state = 'approved' RETURNING id`, [id, checked]);
        if (rows.length) await appendAudit(tx, "ra.enroll", actor.id, { application: id, ...this.actorDetails(actor) });
        return rows.length === 1;
      });
      if (!used) throw new RaError(409, "enrollment_code_used", ["enrollment code already used"]);
      const issued = await this.issue(id).catch((err: unknown) => {
        if (err instanceof CaCallError && err.permanent)
          throw new RaError(
            422,
            "issuance_refused",
            err.messages.map((m) => `issuing CA: ${m}`),
          );
        throw err;
      });
      if (issued.state !== "issued") throw new RaError(503, "issuance_pending", [`application ${id} is approved; issuance will be retried`]);
      return this.deliverRow(actor, issued);
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, "enroll", err, r ? { application: r.id } : {});
      throw err;
    }
  }

  /** Delivery (once): the certificate and the subscriber's revocation secret. */
  async deliver(actor: Actor, id: string, token: string | undefined): Promise<{ application: Application; revocationSecret: string }> {
    const app = await this.checkAccess(actor, id, token, "deliver");
    try {
      if (app.state !== "issued") throw new RaError(409, "bad_transition", [`cannot deliver application ${id}: it is ${app.state} (only an issued application is delivered, once)`]);
      return await this.deliverRow(actor, app);
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, "deliver", err, { application: id });
      throw err;
    }
  }

  private async deliverRow(actor: Actor, app: Application): Promise<{ application: Application; revocationSecret: string }> {
    const secret = newSecret();
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<Record<string, unknown>>(`UPDATE ra_applications SET state = 'delivered', revocation_hash = $2, updated_at = now() WHERE id = $1 AND state = 'issued' RETURNING *`, [
        app.id,
        sha256hex(secret),
      ]);
      if (!row) throw new RaError(409, "bad_transition", [`application ${app.id} was delivered already`]);
      await appendAudit(tx, "ra.deliver", actor.id, { application: app.id, serial: app.serial, ...this.actorDetails(actor) });
      return { application: rowToApplication(row), revocationSecret: secret };
    });
  }

  /** Revocation by an ra-operator (BR 7.2.2 reasons) or by the subscriber with its secret. */
  async revoke(actor: Actor, id: string, reason: string, revocationSecret?: string): Promise<Application> {
    const subscriber = revocationSecret !== undefined;
    if (!subscriber) requireRole(actor, ["ra-operator"], "revoke a certificate");
    const app = await this.mustGet(actor, id, "revoke");
    try {
      const allowed: readonly string[] = subscriber ? SUBSCRIBER_REVOCATION_REASONS : OPERATOR_REVOCATION_REASONS;
      if (!allowed.includes(reason)) {
        throw new RaError(400, "bad_reason", [`reason "${reason}" is not one ${subscriber ? "a subscriber" : "an RA operator"} may give (BR 7.2.2: ${allowed.join(", ")})`]);
      }
      if (subscriber) {
        const [r] = await this.db.query<{ revocation_hash: string | null }>(`SELECT revocation_hash FROM ra_applications WHERE id = $1`, [id]);
        if (!r.revocation_hash || !timingSafeEqual(Buffer.from(sha256hex(revocationSecret)), Buffer.from(r.revocation_hash))) {
          throw new RaError(403, "bad_revocation_secret", [`the revocation secret does not match application ${id}`]);
        }
      }
      if (app.state !== "issued" && app.state !== "delivered") throw new RaError(409, "bad_transition", [`cannot revoke application ${id}: it is ${app.state} (only issued or delivered)`]);
      try {
        await this.ca.revoke(app.serial!, reason);
      } catch (err) {
        // Revoked at the CA already (a retry after a crash): record it here too.
        if (!(err instanceof CaCallError && err.code === "already_revoked")) {
          if (err instanceof CaCallError && err.permanent)
            throw new RaError(
              422,
              "revocation_refused",
              err.messages.map((m) => `issuing CA: ${m}`),
            );
          throw err;
        }
      }
      const who = subscriber ? `subscriber:${id}` : actor.id;
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<Record<string, unknown>>(`UPDATE ra_applications SET state = 'revoked', revocation_reason = $2, updated_at = now() WHERE id = $1 AND state IN ('issued', 'delivered') RETURNING *`, [
          id,
          reason,
        ]);
        if (!row) throw new RaError(409, "bad_transition", [`application ${id} changed state meanwhile`]);
        await appendAudit(tx, "ra.revoke", who, { application: id, serial: app.serial, reason, from: app.state, by: subscriber ? "subscriber" : "ra-operator", ...this.actorDetails(actor) });
        return rowToApplication(row);
      });
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, "revoke", err, { application: id, reason });
      throw err;
    }
  }

  /** Renewal: a new application pre-filled from an issued one (vetted again, with a new key). */
  async renew(actor: Actor, id: string, token: string | undefined, csr?: string): Promise<{ application: Application; accessToken: string }> {
    if (actor.kind === "operator") requireRole(actor, ["ra-operator"], "renew an application");
    const app = actor.kind === "operator" ? await this.mustGet(actor, id, "renew") : await this.checkAccess(actor, id, token, "renew");
    if (!["issued", "delivered", "revoked"].includes(app.state)) {
      return this.refuse(actor, "renew", new RaError(409, "bad_transition", [`cannot renew application ${id}: it is ${app.state} (only a certificate that was issued can be renewed)`]), { application: id });
    }
    return this.submit(actor, { kind: app.kind, fields: app.fields, csr, renewalOf: id });
  }

  /** Certificates expiring within `days` (reminders). */
  async expiring(days: number): Promise<Application[]> {
    const rows = await this.db.query<Record<string, unknown>>(`SELECT * FROM ra_applications WHERE state IN ('issued', 'delivered') AND not_after <= now() + make_interval(days => $1) ORDER BY not_after, id`, [days]);
    return rows.map(rowToApplication);
  }

  /** Enrollment codes past their expiry: their approved applications expire (audited). */
  async expireCodes(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string }>(
        `UPDATE ra_applications SET state = 'expired', reason = 'enrollment code expired unused', updated_at = now()
         WHERE state = 'approved' AND csr IS NULL AND enrollment_used_at IS NULL AND enrollment_expires_at < now() RETURNING id`,
      );
      if (rows.length) await appendAudit(tx, "ra.expire", SYSTEM_ACTOR.id, { applications: rows.map((r) => r.id).sort(), reason: "enrollment code expired unused" });
      return rows.length;
    });
  }

  /** The vetting manager's periodic report: every approval in [from, to), its officer and
   *  approver, and any that broke a rule (officer = approver, missing officer). */
  async approvalsReport(actor: Actor, from: Date, to: Date): Promise<{ from: string; to: string; approvals: Record<string, unknown>[]; violations: string[] }> {
    requireRole(actor, ["vetting-manager"], "read the approvals report");
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT id, kind, state, officer, approver, approved_at, submitted_by, batch_id FROM ra_applications WHERE approved_at >= $1 AND approved_at < $2 ORDER BY approved_at, id`,
      [from.toISOString(), to.toISOString()],
    );
    const violations: string[] = [];
    const approvals = rows.map((r) => {
      if (!r.officer) violations.push(`application ${r.id as string}: approved without a vetting officer`);
      else if (r.officer === r.approver) violations.push(`application ${r.id as string}: officer and approver are the same person (${r.officer as string})`);
      return { id: r.id, kind: r.kind, state: r.state, officer: r.officer, approver: r.approver, approvedAt: iso(r.approved_at), submittedBy: r.submitted_by, batchId: r.batch_id ?? null };
    });
    await this.audit.append("ra.report.approvals", actor.id, { from: from.toISOString(), to: to.toISOString(), approvals: approvals.length, violations: violations.length, ...this.actorDetails(actor) });
    return { from: from.toISOString(), to: to.toISOString(), approvals, violations };
  }

  /**
   * A vetting action on every application of a bulk batch that is in a state the action allows.
   * Four-eyes per application: approval skips (and counts) those the approver accepted as
   * officer; all of them refused is 403. Approval makes one enrollment code per row, returned
   * once. One transaction, one audit record listing every application changed.
   */
  async batchAct(
    actor: Actor,
    batchId: string,
    action: VettingActionName,
    reason?: string,
  ): Promise<{ batchId: string; action: string; changed: number; skippedFourEyes: number; codes: { row: number; application: string; fields: Record<string, string>; code: string }[]; expiresAt?: string }> {
    const spec = VETTING_ACTIONS[action];
    requireRole(actor, spec.roles, `${action} a batch`);
    try {
      if (spec.reason && !reason?.trim()) throw new RaError(400, "reason_required", [`"reason" is required to ${action} a batch`]);
      return await this.db.transaction(async (tx) => {
        const [b] = await tx.query(`SELECT id FROM ra_batches WHERE id = $1`, [batchId]);
        if (!b) throw new RaError(404, "not_found", [`no batch ${batchId}`]);
        const rows = await tx.query<{ id: string; officer: string | null; csr: string | null; batch_row: number; fields: unknown }>(
          `SELECT id, officer, csr, batch_row, fields FROM ra_applications WHERE batch_id = $1 AND state = ANY($2) ORDER BY batch_row FOR UPDATE`,
          [batchId, spec.from],
        );
        if (!rows.length) throw new RaError(409, "bad_transition", [`no application of batch ${batchId} can be ${action === "start-review" ? "taken for review" : `${action}ed`}: none is ${spec.from.join(" or ")}`]);
        const eligible = action === "approve" ? rows.filter((r) => r.officer !== actor.id) : rows;
        const skippedFourEyes = rows.length - eligible.length;
        if (!eligible.length) throw new RaError(403, "four_eyes", [`${actor.id} accepted every remaining application of batch ${batchId} as vetting officer and may not also approve them (RFC 3647 5.2.4)`]);
        const codes: { row: number; application: string; fields: Record<string, string>; code: string }[] = [];
        const secs = this.config.enrollmentCodeHours * 3600;
        for (let i = 0; i < eligible.length; i += 500) {
          const part = eligible.slice(i, i + 500);
          const params: unknown[] = [];
          const sets = [`state = '${spec.to}'`, "updated_at = now()"];
          if (reason) sets.push(`reason = $${params.push(reason)}::text`);
          if (action === "accept") sets.push(`officer = $${params.push(actor.id)}::text`);
          if (action === "approve")
            sets.push(
              `approver = $${params.push(actor.id)}::text`,
              "approved_at = now()",
              "enrollment_hash = v.h",
              `enrollment_expires_at = CASE WHEN v.h IS NULL THEN NULL ELSE now() + make_interval(secs => ${Number(secs)}) END`,
            );
          const values = part.map((r) => {
            const code = action === "approve" && !r.csr ? newEnrollmentCode() : null;
            if (code) codes.push({ row: Number(r.batch_row), application: r.id, fields: (typeof r.fields === "string" ? JSON.parse(r.fields) : r.fields) as Record<string, string>, code });
            return `($${params.push(r.id)}::text, $${params.push(code ? sha256hex(code) : null)}::text)`;
          });
          await tx.query(`UPDATE ra_applications a SET ${sets.join(", ")} FROM (VALUES ${values.join(", ")}) AS v(id, h) WHERE a.id = v.id`, params);
        }
        const [{ exp }] = await tx.query<{ exp: unknown }>(`SELECT now() + make_interval(secs => $1) AS exp`, [secs]);
        await appendAudit(
          tx,
          `ra.batch.${action}`,
          actor.id,
          auditSafe({ batch: batchId, from: spec.from, to: spec.to, count: eligible.length, skippedFourEyes, applications: eligible.map((r) => r.id), ...(reason ? { reason } : {}), ...this.actorDetails(actor) }),
        );
        return { batchId, action, changed: eligible.length, skippedFourEyes, codes, ...(codes.length ? { expiresAt: iso(exp)! } : {}) };
      });
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, `batch ${action}`, err, { batch: batchId });
      throw err;
    }
  }

  /** Applicant withdrawal (access token), before vetting is finished. */
  async applicantWithdraw(actor: Actor, id: string, token: string | undefined, reason: string): Promise<Application> {
    const app = await this.checkAccess(actor, id, token, "withdraw");
    try {
      if (app.state !== "submitted" && app.state !== "returned")
        throw new RaError(409, "bad_transition", [`cannot withdraw application ${id}: it is ${app.state} (an applicant withdraws a submitted or returned application; ask the RA otherwise)`]);
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<Record<string, unknown>>(`UPDATE ra_applications SET state = 'withdrawn', reason = $2, updated_at = now() WHERE id = $1 AND state IN ('submitted', 'returned') RETURNING *`, [
          id,
          reason || "withdrawn by the applicant",
        ]);
        if (!row) throw new RaError(409, "bad_transition", [`application ${id} changed state meanwhile`]);
        await appendAudit(tx, "ra.withdraw", actor.id, auditSafe({ application: id, from: app.state, to: "withdrawn", reason, by: "applicant" }));
        return rowToApplication(row);
      });
    } catch (err) {
      if (err instanceof RaError) return this.refuse(actor, "withdraw", err, { application: id });
      throw err;
    }
  }

  isFinal(s: State): boolean {
    return FINAL_STATES.includes(s);
  }
}

/** notAfter of a PEM certificate (ISO 8601). */
const notAfterOf = (pem: string): string => new Date(new X509Certificate(pem).validTo).toISOString();
