/**
 * Bulk applications from a CSV file (ADR 0062): UTF-8 with or without BOM (RFC 4180 quoting,
 * newlines inside quoted fields, Lao script), header = the kind's field names, at most
 * `bulkUploadMaxRows` rows. Streamed: the file is parsed and stored row by row in one
 * transaction (memory does not grow with the file); a dry run stores nothing; a real upload keeps
 * every good row and reports each bad one by row and column; the same file (SHA-256) uploaded
 * again creates nothing. Exports neutralise cells a spreadsheet would run as formulas.
 */
import { createHash, randomUUID } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { CsvError, parse } from "csv-parse";
import { appendAudit } from "../audit/log.js";
import type { Queryable } from "../storage/db.js";
import type { Actor } from "./auth.js";
import { auditSafe, RaError, validateFields, type RaService } from "./service.js";

export interface RowProblem {
  /** Spreadsheet row number: 1 is the header. */
  readonly row: number;
  /** Column name (field), when the problem is one cell's. */
  readonly column?: string;
  /** Spreadsheet column letter (A, B, …). */
  readonly columnLetter?: string;
  readonly message: string;
}

export interface BatchReport {
  readonly batchId: string | null;
  readonly kind: string;
  readonly filename: string;
  readonly sha256: string;
  readonly dryRun: boolean;
  /** The same file was uploaded before: nothing was created, this is its first report. */
  readonly duplicate: boolean;
  readonly rows: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly problems: readonly RowProblem[];
}

const letter = (i: number): string => {
  let s = "";
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
};

/** Bytes → strings, refusing bytes that are not UTF-8 (with their offset), hashing and counting. */
class Utf8Gate extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  constructor(private readonly maxBytes: number) {
    super({ readableObjectMode: false, decodeStrings: true });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: string) => void): void {
    const start = this.bytes;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      cb(new RaError(413, "too_large", [`the file exceeds the limit of ${this.maxBytes} bytes`]));
      return;
    }
    this.hash.update(chunk);
    try {
      cb(null, this.decoder.decode(chunk, { stream: true }));
    } catch {
      const bad = Buffer.from(chunk).toString("utf8").indexOf("\ufffd");
      const at = start + (bad >= 0 ? Buffer.byteLength(Buffer.from(chunk).toString("utf8").slice(0, bad)) : 0);
      cb(new RaError(400, "not_utf8", [`the file is not UTF-8: invalid byte sequence at byte offset ${at} (save it as "CSV UTF-8")`]));
    }
  }
  override _flush(cb: (err?: Error | null, data?: string) => void): void {
    try {
      cb(null, this.decoder.decode());
    } catch {
      cb(new RaError(400, "not_utf8", [`the file is not UTF-8: it ends inside a multi-byte sequence (byte offset ${this.bytes})`]));
    }
  }
}

const CHUNK = 250;

/** Parses, validates and (unless a dry run) stores one CSV upload. */
export async function uploadBatch(service: RaService, actor: Actor, o: { kind: string; filename: string; dryRun: boolean }, body: Readable): Promise<BatchReport> {
  const kind = service.kind(o.kind);
  const columnsAllowed = Object.entries(kind.fields).map(([n]) => n);
  const gate = new Utf8Gate(service.config.bulkUploadMaxBytes);
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: 64 * 1024, info: true });
  body.on("error", (e) => gate.destroy(e));
  body.pipe(gate).pipe(parser);
  gate.on("error", (e) => parser.destroy(e));

  const problems: RowProblem[] = [];
  let rows = 0;
  let accepted = 0;
  let header: string[] | undefined;
  const batchId = randomUUID();

  const consume = async (tx: Queryable | undefined): Promise<void> => {
    let pending: unknown[][] = [];
    const flush = async () => {
      if (!tx || !pending.length) return;
      const params: unknown[] = [];
      const values = pending.map((r) => `(${r.map((v) => `$${params.push(v)}`).join(", ")}, 'submitted')`);
      await tx.query(`INSERT INTO ra_applications (id, kind, fields, submitted_by, batch_id, batch_row, state) VALUES ${values.join(", ")}`, params);
      pending = [];
    };
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number; records: number } }>) {
      const { record, info } = rec;
      const row = info.records; // 1 = header
      if (!header) {
        header = record.map((h) => h.trim());
        const unknown = header.filter((h) => !columnsAllowed.includes(h));
        const dup = header.filter((h, i) => header!.indexOf(h) !== i);
        const missing = Object.entries(kind.fields)
          .filter(([n, f]) => f.required && f.fixed === undefined && !header!.includes(n))
          .map(([n]) => n);
        const hp: string[] = [
          ...unknown.map((h) => `row 1, column ${letter(header!.indexOf(h))} "${h}": unknown column for kind "${o.kind}" (allowed: ${columnsAllowed.join(", ")})`),
          ...dup.map((h) => `row 1: column "${h}" appears more than once`),
          ...missing.map((h) => `row 1: the required column "${h}" is missing`),
        ];
        if (hp.length) throw new RaError(422, "bad_header", hp);
        continue;
      }
      rows++;
      if (rows > service.config.bulkUploadMaxRows) throw new RaError(413, "too_many_rows", [`the file has more than ${service.config.bulkUploadMaxRows} rows (ra.bulkUploadMaxRows); split it`]);
      if (record.length !== header.length) {
        problems.push({ row, message: `has ${record.length} cells, the header has ${header.length} (line ${info.lines})` });
        continue;
      }
      const input: Record<string, string> = {};
      header.forEach((h, i) => {
        if (record[i] !== "") input[h] = record[i];
      });
      const v = validateFields(o.kind, kind, input);
      if (v.problems.length) {
        for (const p of v.problems) problems.push({ row, column: p.field, columnLetter: letter(header.indexOf(p.field)), message: p.message });
        continue;
      }
      accepted++;
      if (!tx) continue; // a dry run keeps nothing: memory does not grow with the file
      pending.push([randomUUID(), o.kind, JSON.stringify(v.fields), actor.id, batchId, row]);
      if (pending.length >= CHUNK) await flush();
    }
    if (!header) throw new RaError(422, "empty_file", ["the file has no header row"]);
    await flush();
  };

  const parseError = (err: unknown): never => {
    if (err instanceof RaError) throw err;
    if (err instanceof CsvError) {
      const e = err as CsvError & { lines?: number; records?: number };
      throw new RaError(400, "bad_csv", [`row ${(e.records ?? 0) + 1} (line ${e.lines ?? "?"}): ${e.message} (RFC 4180: a field with a quote, comma or newline is enclosed in quotes, and its quotes are doubled)`]);
    }
    throw err;
  };

  const report = (sha256: string, duplicate = false, stored?: BatchReport): BatchReport =>
    stored ?? { batchId: o.dryRun ? null : batchId, kind: o.kind, filename: o.filename, sha256, dryRun: o.dryRun, duplicate, rows, accepted, rejected: rows - accepted, problems };

  try {
    if (o.dryRun) {
      await consume(undefined).catch(parseError);
      const r = report(gate.hash.digest("hex"));
      await service.audit.append("ra.batch.dry-run", actor.id, auditSafe({ kind: o.kind, filename: o.filename, sha256: r.sha256, rows, accepted, rejected: r.rejected, ...service.actorDetails(actor) }));
      return r;
    }
    return await service.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ra_batches (id, sha256, kind, filename, rows, accepted, problems, created_by) VALUES ($1, $2, $3, $4, 0, 0, '[]', $5)`, [batchId, `pending:${batchId}`, o.kind, o.filename, actor.id]);
      await consume(tx).catch(parseError);
      const sha256 = gate.hash.digest("hex");
      const [prev] = await tx.query<Record<string, unknown>>(`SELECT * FROM ra_batches WHERE sha256 = $1`, [sha256]);
      if (prev) throw new DuplicateBatch(prev);
      const r = report(sha256);
      await tx.query(`UPDATE ra_batches SET sha256 = $2, rows = $3, accepted = $4, problems = $5 WHERE id = $1`, [batchId, sha256, rows, accepted, JSON.stringify(auditSafe(problems))]);
      await appendAudit(tx, "ra.batch.submit", actor.id, auditSafe({ batch: batchId, kind: o.kind, filename: o.filename, sha256, rows, accepted, rejected: r.rejected, ...service.actorDetails(actor) }));
      return r;
    });
  } catch (err) {
    if (err instanceof DuplicateBatch) {
      const p = err.prev;
      await service.audit.append("ra.batch.duplicate", actor.id, { batch: p.id, sha256: p.sha256, filename: o.filename, ...service.actorDetails(actor) });
      return { ...batchRow(p), duplicate: true, dryRun: false };
    }
    if (err instanceof RaError) return service.refuse(actor, "batch upload", err, { kind: o.kind, filename: o.filename, dryRun: o.dryRun });
    throw err;
  } finally {
    body.resume(); // drain what is left of a refused upload
  }
}

class DuplicateBatch extends Error {
  constructor(readonly prev: Record<string, unknown>) {
    super("duplicate");
  }
}

export function batchRow(p: Record<string, unknown>): BatchReport {
  const problems = (typeof p.problems === "string" ? JSON.parse(p.problems) : p.problems) as RowProblem[];
  return {
    batchId: p.id as string,
    kind: p.kind as string,
    filename: p.filename as string,
    sha256: p.sha256 as string,
    dryRun: false,
    duplicate: false,
    rows: Number(p.rows),
    accepted: Number(p.accepted),
    rejected: Number(p.rows) - Number(p.accepted),
    problems,
  };
}

/** A CSV cell for export: formula triggers (= + - @, tab, CR) neutralised with a leading
 *  apostrophe (OWASP CSV injection), quoted per RFC 4180 when needed. */
export function csvCell(v: unknown): string {
  let s = v == null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: readonly unknown[]): string => `${cells.map(csvCell).join(",")}\r\n`;
