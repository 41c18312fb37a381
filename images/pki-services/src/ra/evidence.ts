/**
 * Supporting evidence (appointment letter, business licence): PDF, JPEG or PNG, the type checked
 * by the file's content (not its name or declared type), size-limited, stored in the RA's own
 * store with its SHA-256 and kept for the CP's retention period (CP/CPS 5.5.2). ADR 0063.
 */
import { createHash, randomUUID } from "node:crypto";
import { appendAudit } from "../audit/log.js";
import type { Actor } from "./auth.js";
import type { EVIDENCE_MEDIA_TYPES } from "./config.js";
import { auditSafe, RaError, type Application, type RaService } from "./service.js";

export type EvidenceMediaType = (typeof EVIDENCE_MEDIA_TYPES)[number];

const NAMES: Record<EvidenceMediaType, string> = { "application/pdf": "a PDF document", "image/jpeg": "a JPEG image", "image/png": "a PNG image" };
const EXTENSIONS: Record<EvidenceMediaType, readonly string[]> = { "application/pdf": ["pdf"], "image/jpeg": ["jpg", "jpeg"], "image/png": ["png"] };

/** The media type a file's first bytes show (PDF 1.7 §7.5.2 header, JFIF/EXIF SOI marker, PNG
 *  signature), or undefined. */
export function sniff(b: Buffer): EvidenceMediaType | undefined {
  if (b.subarray(0, 5).toString("latin1") === "%PDF-") return "application/pdf";
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  return undefined;
}

export interface EvidenceRecord {
  readonly id: string;
  readonly applicationId: string;
  readonly type: string;
  readonly mediaType: EvidenceMediaType;
  readonly filename: string;
  readonly size: number;
  readonly sha256: string;
  readonly uploadedBy: string;
  readonly uploadedAt: string;
  readonly retainUntil: string;
}

const toRecord = (r: Record<string, unknown>): EvidenceRecord => ({
  id: r.id as string,
  applicationId: r.application_id as string,
  type: r.type as string,
  mediaType: r.media_type as EvidenceMediaType,
  filename: r.filename as string,
  size: Number(r.size),
  sha256: r.sha256 as string,
  uploadedBy: r.uploaded_by as string,
  uploadedAt: new Date(r.uploaded_at as string).toISOString(),
  retainUntil: new Date(r.retain_until as string).toISOString(),
});
const COLUMNS = "id, application_id, type, media_type, filename, size, sha256, uploaded_by, uploaded_at, retain_until";

export async function addEvidence(service: RaService, actor: Actor, app: Application, o: { type: string; filename: string; declared: string }, content: Buffer): Promise<EvidenceRecord> {
  try {
    const kind = service.kind(app.kind);
    const spec = kind.evidence.find((e) => e.type === o.type);
    if (!spec) throw new RaError(422, "unknown_evidence_type", [`evidence type "${o.type}" is not one kind "${app.kind}" takes (allowed: ${kind.evidence.map((e) => e.type).join(", ") || "none"})`]);
    if (["rejected", "withdrawn", "expired", "revoked", "issued", "delivered", "approved"].includes(app.state)) {
      throw new RaError(409, "bad_transition", [`evidence cannot be added to application ${app.id}: it is ${app.state}`]);
    }
    if (!/^[^\\/\u0000-\u001f<>:"|?*]{1,200}$/.test(o.filename)) throw new RaError(400, "bad_filename", [`filename ${JSON.stringify(o.filename)} must be 1-200 characters without path separators or control characters`]);
    if (!content.length) throw new RaError(400, "empty_file", [`the file ${o.filename} is empty`]);
    const actual = sniff(content);
    if (!actual) throw new RaError(415, "unsupported_media_type", [`the file ${o.filename} is not a PDF, JPEG or PNG file (by its content)`]);
    const ext = /\.([A-Za-z0-9]+)$/.exec(o.filename)?.[1]?.toLowerCase();
    if (o.declared !== "application/octet-stream" && o.declared !== actual) {
      throw new RaError(415, "content_mismatch", [`the file ${o.filename} was sent as ${o.declared} but its content is ${NAMES[actual]}`]);
    }
    if (!ext || !EXTENSIONS[actual].includes(ext)) {
      throw new RaError(415, "content_mismatch", [`the file ${o.filename} is named .${ext ?? "(none)"} but its content is ${NAMES[actual]} (.${EXTENSIONS[actual].join(" or .")})`]);
    }
    const sha256 = createHash("sha256").update(content).digest("hex");
    const id = randomUUID();
    return await service.db.transaction(async (tx) => {
      const [row] = await tx.query<Record<string, unknown>>(
        `INSERT INTO ra_evidence (id, application_id, type, media_type, filename, size, sha256, content, uploaded_by, retain_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(days => $10)) RETURNING ${COLUMNS}`,
        [id, app.id, o.type, actual, o.filename, content.length, sha256, content, actor.id, service.config.evidence.retentionDays],
      );
      await appendAudit(
        tx,
        "ra.evidence.add",
        actor.id,
        auditSafe({ application: app.id, evidence: id, type: o.type, mediaType: actual, filename: o.filename, size: content.length, sha256, ...service.actorDetails(actor) }),
      );
      return toRecord(row);
    });
  } catch (err) {
    if (err instanceof RaError) return service.refuse(actor, "add evidence", err, { application: app.id, type: o.type, filename: o.filename });
    throw err;
  }
}

export async function listEvidence(service: RaService, applicationId: string): Promise<EvidenceRecord[]> {
  return (await service.db.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM ra_evidence WHERE application_id = $1 ORDER BY uploaded_at, id`, [applicationId])).map(toRecord);
}

export async function readEvidence(service: RaService, actor: Actor, applicationId: string, id: string): Promise<{ record: EvidenceRecord; content: Buffer }> {
  const [r] = await service.db.query<Record<string, unknown>>(`SELECT ${COLUMNS}, content FROM ra_evidence WHERE application_id = $1 AND id = $2`, [applicationId, id]);
  if (!r) return service.refuse(actor, "read evidence", new RaError(404, "not_found", [`no evidence ${id} for application ${applicationId}`]), { application: applicationId });
  const content = Buffer.isBuffer(r.content) ? r.content : Buffer.from(r.content as Uint8Array);
  await service.audit.append("ra.evidence.read", actor.id, { application: applicationId, evidence: id, ...service.actorDetails(actor) });
  return { record: toRecord(r), content };
}

/** Evidence past its retention period is deleted (audited with its SHA-256). */
export async function purgeExpiredEvidence(service: RaService): Promise<number> {
  return service.db.transaction(async (tx) => {
    const rows = await tx.query<{ id: string; application_id: string; sha256: string }>(`DELETE FROM ra_evidence WHERE retain_until < now() RETURNING id, application_id, sha256`);
    if (rows.length) await appendAudit(tx, "ra.evidence.purge", "system:ra", { count: rows.length, evidence: rows.map((r) => ({ id: r.id, application: r.application_id, sha256: r.sha256 })) });
    return rows.length;
  });
}
