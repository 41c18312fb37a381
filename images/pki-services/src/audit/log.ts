/**
 * The audit log: every security event (BR 5.4.1, NCSSR 3.x: issuance, revocation, key use,
 * login, configuration change, start/stop) as a record that holds the hash of the one before.
 * Editing, deleting or reordering any record breaks the chain at that record.
 */
import { createHash } from "node:crypto";
import type { Database, Queryable } from "../storage/db.js";

export type AuditEvent =
  | "service.start"
  | "service.start.failed"
  | "service.stop"
  | "config.loaded"
  | "hsm.login"
  | "hsm.unavailable"
  | "hsm.recovered"
  | "key.use"
  | "cert.intent"
  | "cert.issue"
  | "cert.issue.failed"
  | "cert.request.rejected"
  | "cert.revoke"
  | "cert.revoke.rejected"
  | "cert.reconciled"
  | "access.denied"
  | "crl.issue"
  | "crl.publish.failed"
  | "ocsp.responder.start"
  | "ocsp.sign"
  | "ocsp.sign.failed"
  | "repository.publish"
  | "tsa.stamp"
  | "tsa.stamp.rejected"
  | "tsa.clock.synchronised"
  | "tsa.clock.unsynchronised" // time-stamping (RFC 3161)
  | `ra.${string}`; // the RA's transitions and refusals (ra/service.ts)

export interface AuditRecord {
  readonly seq: number;
  readonly at: string;
  readonly event: string;
  readonly actor: string;
  readonly details: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = "0".repeat(64);

/** JSON with sorted keys: the bytes hashed do not depend on jsonb's key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}

export function recordHash(r: Omit<AuditRecord, "hash">): string {
  return createHash("sha256")
    .update(canonicalJson({ seq: r.seq, at: r.at, event: r.event, actor: r.actor, details: r.details, prevHash: r.prevHash }))
    .digest("hex");
}

/** NUL and UTF-16 code units that are not part of a surrogate pair: PostgreSQL refuses both in
 *  text and jsonb, so hostile input would make the audit write of its own rejection fail. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

/** `s` with each unstorable code unit written as `\uXXXX` and each backslash doubled (so the
 *  original is recoverable exactly: JSON-unescape it). */
export function escapeUnstorable(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(UNSTORABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Actor and details as PostgreSQL can store them. A string (or key) holding NUL or a lone
 * surrogate is escaped ({@link escapeUnstorable}) and its path listed in `details.escaped`
 * (e.g. "actor", "problems.0", "profile"), so every rejection is audited, whatever the input,
 * and nothing is lost. Strings that need no escaping are kept as they are.
 */
export function storable(actor: string, details: Record<string, unknown>): { actor: string; details: Record<string, unknown> } {
  const escaped: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === "string") {
      if (!UNSTORABLE.test(v)) return v;
      escaped.push(path);
      return escapeUnstorable(v);
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, path ? `${path}.${i}` : String(i)));
    if (v && typeof v === "object" && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const key = UNSTORABLE.test(k) ? escapeUnstorable(k) : k;
        if (key !== k) escaped.push(`${path ? `${path}.` : ""}${key} (key)`);
        out[key] = walk(x, path ? `${path}.${key}` : key);
      }
      return out;
    }
    return v;
  };
  const unstorableActor = UNSTORABLE.test(actor);
  if (unstorableActor) escaped.push("actor");
  const a = unstorableActor ? escapeUnstorable(actor) : actor;
  const d = walk(details, "") as Record<string, unknown>;
  return { actor: a, details: escaped.length ? { ...d, escaped } : d };
}

/** Appends one record inside `tx` (locks the chain head: appends from every process serialise). */
export async function appendAudit(tx: Queryable, event: AuditEvent, actor: string, details: Record<string, unknown>, at = new Date()): Promise<AuditRecord> {
  return (await appendAuditBatch(tx, event, actor, [details], at))[0];
}

/** Appends one record per `details`, in order, inside `tx`: the chain head is locked and moved
 *  once (a service that records many events at once, e.g. the TSA's group commit, pays for one
 *  lock, not one per record). */
export async function appendAuditBatch(tx: Queryable, event: AuditEvent, actor: string, details: readonly Record<string, unknown>[], at = new Date()): Promise<AuditRecord[]> {
  const [head] = await tx.query<{ seq: string | number; hash: string }>("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE");
  let seq = Number(head.seq);
  let prevHash = head.hash;
  const records: AuditRecord[] = [];
  for (const raw of details) {
    // Text PostgreSQL cannot store is escaped first, so the audit write never fails on it.
    const s = storable(actor, raw);
    const rec = { seq: ++seq, at: at.toISOString(), event, actor: s.actor, details: JSON.parse(canonicalJson(s.details)) as Record<string, unknown>, prevHash };
    prevHash = recordHash(rec);
    records.push({ ...rec, hash: prevHash });
  }
  const params = records.flatMap((r) => [r.seq, r.at, r.event, r.actor, JSON.stringify(r.details), r.prevHash, r.hash]);
  const values = records.map((_, i) => `($${i * 7 + 1}, $${i * 7 + 2}, $${i * 7 + 3}, $${i * 7 + 4}, $${i * 7 + 5}, $${i * 7 + 6}, $${i * 7 + 7})`).join(", ");
  if (records.length) {
    await tx.query(`INSERT INTO audit_log (seq, at, event, actor, details, prev_hash, hash) VALUES ${values}`, params);
    await tx.query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", [seq, prevHash]);
  }
  return records;
}

export class AuditLog {
  constructor(private readonly db: Database) {}
  append(event: AuditEvent, actor: string, details: Record<string, unknown>): Promise<AuditRecord> {
    return this.db.transaction((tx) => appendAudit(tx, event, actor, details));
  }
}

export interface AuditProblem {
  readonly seq: number;
  readonly problem: "edited" | "deleted" | "reordered" | "truncated";
  readonly message: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly records: number;
  readonly problems: readonly AuditProblem[];
}

/**
 * Walks the chain in seq order. Names each broken record: edited (its content no longer hashes
 * to its hash), deleted (a gap in seq / a prev_hash pointing at a record that is gone),
 * reordered (prev_hash is the hash of another record than the one before it), truncated (the
 * head says more records existed).
 */
export async function verifyAudit(db: Queryable): Promise<AuditVerification> {
  const rows = await db.query<{ seq: string | number; at: string; event: string; actor: string; details: Record<string, unknown>; prev_hash: string; hash: string }>(
    "SELECT seq, at, event, actor, details, prev_hash, hash FROM audit_log ORDER BY seq",
  );
  const problems: AuditProblem[] = [];
  const bySeqHash = new Map<string, number>();
  const byPrev = new Map<string, number>();
  for (const r of rows) {
    bySeqHash.set(r.hash, Number(r.seq));
    byPrev.set(r.prev_hash, Number(r.seq));
  }
  // A record moved to another position still hashes correctly with the seq it was written
  // with: try its chain neighbours' positions first, then nearby positions.
  const originalSeq = (seq: number, hash: string, prev: string, matches: (k: number) => boolean): number | undefined => {
    const candidates = new Set<number>();
    const next = byPrev.get(hash);
    if (next !== undefined) candidates.add(next - 1);
    const before = prev === GENESIS_HASH ? 0 : bySeqHash.get(prev);
    if (before !== undefined) candidates.add(before + 1);
    for (let d = 1; d <= 64; d++) candidates.add(seq - d).add(seq + d);
    for (const k of candidates) if (k > 0 && k !== seq && matches(k)) return k;
    return undefined;
  };
  let prevHash = GENESIS_HASH;
  let prevSeq = 0;
  let prevFlagged = false; // the link after a moved record is already explained
  for (const r of rows) {
    const seq = Number(r.seq);
    const details = typeof r.details === "string" ? (JSON.parse(r.details) as Record<string, unknown>) : r.details;
    const computed = recordHash({ seq, at: r.at, event: r.event, actor: r.actor, details, prevHash: r.prev_hash });
    // A record moved to another position: its content hashes correctly with the seq it had,
    // which its neighbours in the chain still point at.
    const original = computed !== r.hash ? originalSeq(seq, r.hash, r.prev_hash, (k) => recordHash({ seq: k, at: r.at, event: r.event, actor: r.actor, details, prevHash: r.prev_hash }) === r.hash) : undefined;
    if (original !== undefined) {
      problems.push({ seq, problem: "reordered", message: `record ${seq} (${r.event} at ${r.at}) was reordered: it was written as record ${original}` });
    } else if (computed !== r.hash) {
      problems.push({ seq, problem: "edited", message: `record ${seq} (${r.event} at ${r.at}) was edited: its content does not match its hash` });
    } else if (seq !== prevSeq + 1 && r.prev_hash !== prevHash && !bySeqHash.has(r.prev_hash)) {
      problems.push({ seq, problem: "deleted", message: `record(s) ${prevSeq + 1}..${seq - 1} before record ${seq} were deleted` });
    } else if (r.prev_hash !== prevHash && !prevFlagged) {
      const other = bySeqHash.get(r.prev_hash);
      if (other !== undefined) problems.push({ seq, problem: "reordered", message: `record ${seq} (${r.event}) was reordered: it follows record ${other}, not record ${prevSeq}` });
      else problems.push({ seq, problem: "deleted", message: `the record before record ${seq} (${r.event}) was deleted or replaced` });
    }
    prevFlagged = problems.at(-1)?.seq === seq && problems.at(-1)?.problem === "reordered";
    prevHash = r.hash;
    prevSeq = seq;
  }
  const [head] = await db.query<{ seq: string | number; hash: string }>("SELECT seq, hash FROM audit_head WHERE id = 1");
  if (head && Number(head.seq) > prevSeq) {
    problems.push({ seq: prevSeq + 1, problem: "truncated", message: `records ${prevSeq + 1}..${head.seq} at the end of the log were deleted (the chain head says ${head.seq})` });
  } else if (head && Number(head.seq) === prevSeq && head.hash !== prevHash && !problems.length) {
    problems.push({ seq: prevSeq, problem: "edited", message: `record ${prevSeq} does not match the chain head` });
  }
  return { ok: problems.length === 0, records: rows.length, problems };
}
