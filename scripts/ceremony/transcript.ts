/**
 * The ceremony transcript: who took part and in which role, each step with its time, the SHA-256
 * of every input and output, the SPKI SHA-256 of every key, what was produced, and the result.
 * Written twice, as JSON for tools and Markdown for people (the Markdown is a pure rendering of
 * the JSON). Each entry carries the hash of the one before (a hash chain, as the audit log of
 * NCSSR 3.1 / BR 5.4.4 asks for integrity): `ceremony verify-transcript` detects any edit, and
 * the last hash, shown on screen at the end, is written into the paper ceremony log.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import pc from "picocolors";
import { sha256Hex } from "@lanic-ca/pki-services/pki/key-id";

export const TRANSCRIPT_FORMAT = "lanic-ca-ceremony-transcript/v1";
export const GENESIS = "0".repeat(64);

export type EntryKind = "begin" | "participant" | "step" | "input" | "output" | "key" | "certificate" | "crl" | "csr" | "check" | "result";

export interface Entry {
  readonly seq: number;
  readonly at: string;
  readonly kind: EntryKind;
  readonly summary: string;
  readonly data: Record<string, unknown>;
  readonly prev: string;
  readonly hash: string;
}

export interface TranscriptDocument {
  readonly format: typeof TRANSCRIPT_FORMAT;
  readonly entries: Entry[];
}

/** JSON with keys sorted at every level: the bytes an entry hash covers. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

export function entryHash(e: Omit<Entry, "hash">): string {
  return sha256Hex(canonicalJson({ seq: e.seq, at: e.at, kind: e.kind, summary: e.summary, data: e.data, prev: e.prev }));
}

export function renderMarkdown(doc: TranscriptDocument): string {
  const begin = doc.entries[0];
  const result = doc.entries.at(-1);
  const lines = [
    `# Ceremony transcript: ${String(begin?.data.type ?? "?")} (${String(begin?.data.environment ?? "?")})`,
    "",
    `Format ${doc.format}. Every entry hashes the one before it; check with \`lanic-ca ceremony verify-transcript\`.`,
    "",
    `- Result: **${String(result?.data.status ?? "incomplete")}**`,
    `- Last entry hash: \`${result?.hash ?? GENESIS}\``,
    "",
    "| # | time (UTC) | kind | what | hash |",
    "|---|---|---|---|---|",
    ...doc.entries.map((e) => `| ${e.seq} | ${e.at} | ${e.kind} | ${e.summary.replace(/\|/g, "\\|").replace(/\n/g, " ")} | \`${e.hash.slice(0, 16)}…\` |`),
    "",
    "## Entries",
    "",
  ];
  for (const e of doc.entries) {
    lines.push(`### ${e.seq}. ${e.kind}: ${e.summary.replace(/\n/g, " ")}`, "", `- at: ${e.at}`, `- prev: \`${e.prev}\``, `- hash: \`${e.hash}\``);
    if (Object.keys(e.data).length > 0) lines.push("", "```json", JSON.stringify(e.data, null, 2), "```");
    lines.push("");
  }
  return lines.join("\n");
}

export interface TranscriptOptions {
  /** Where progress is shown (the screen the custodians watch). */
  readonly output: NodeJS.WritableStream;
  readonly now?: () => Date;
}

export class Transcript {
  readonly entries: Entry[] = [];
  private fds: { json: number; md: number } | undefined;
  private paths: { json: string; md: string } | undefined;
  private stepNo = 0;
  private readonly now: () => Date;

  constructor(private readonly options: TranscriptOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Creates `<base>.json` and `<base>.md` exclusively (flag wx): refuses if either exists. */
  claim(base: string): void {
    const json = `${base}.json`;
    const md = `${base}.md`;
    const j = openSync(json, "wx", 0o644);
    try {
      this.fds = { json: j, md: openSync(md, "wx", 0o644) };
    } catch (err) {
      closeSync(j);
      throw err;
    }
    this.paths = { json, md };
  }

  get files(): { json: string; md: string } | undefined {
    return this.paths;
  }

  add(kind: EntryKind, summary: string, data: Record<string, unknown> = {}): Entry {
    const prev = this.entries.at(-1)?.hash ?? GENESIS;
    const partial = { seq: this.entries.length + 1, at: this.now().toISOString(), kind, summary, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown>, prev };
    const entry: Entry = { ...partial, hash: entryHash(partial) };
    this.entries.push(entry);
    return entry;
  }

  /** Prints a line to the custodians' screen (not recorded). */
  say(text: string): void {
    this.options.output.write(`${text}\n`);
  }

  /** Runs one step: shows it on screen, records it with its outcome and duration. */
  async step<T>(title: string, fn: () => Promise<T> | T): Promise<T> {
    const n = ++this.stepNo;
    this.say(`${pc.bold(pc.cyan(`[${n}]`))} ${title} …`);
    const t0 = Date.now();
    try {
      const v = await fn();
      const ms = Date.now() - t0;
      this.add("step", title, { step: n, status: "ok", ms });
      this.say(`    ${pc.green("✔")} ${pc.dim(`${ms} ms`)}`);
      return v;
    } catch (err) {
      this.add("step", title, { step: n, status: "failed", error: (err as Error).message });
      this.say(`    ${pc.red("✘")} ${(err as Error).message}`);
      throw err;
    }
  }

  document(): TranscriptDocument {
    return { format: TRANSCRIPT_FORMAT, entries: this.entries };
  }

  /** Records the result, writes both files and closes them. Returns the last hash. */
  finish(status: "succeeded" | "failed", data: Record<string, unknown> = {}): string {
    const last = this.add("result", status === "succeeded" ? "ceremony succeeded" : "ceremony failed", { status, ...data });
    if (this.fds) {
      const doc = this.document();
      writeSync(this.fds.json, `${JSON.stringify(doc, null, 2)}\n`);
      writeSync(this.fds.md, renderMarkdown(doc));
      closeSync(this.fds.json);
      closeSync(this.fds.md);
      this.fds = undefined;
    }
    return last.hash;
  }
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: string | null;
  readonly status: string | null;
  readonly problems: string[];
}

/** Checks a transcript: the JSON's hash chain, its ending in a result entry, the Markdown (when
 *  given) being the rendering of the JSON, and the head hash (when given, from the paper log). */
export function verifyTranscript(jsonPath: string, options: { markdownPath?: string; head?: string } = {}): VerifyResult {
  const problems: string[] = [];
  let doc: TranscriptDocument;
  try {
    doc = JSON.parse(readFileSync(jsonPath, "utf8")) as TranscriptDocument;
  } catch (err) {
    return { ok: false, entries: 0, head: null, status: null, problems: [`${jsonPath}: not a readable JSON transcript: ${(err as Error).message}`] };
  }
  if (doc?.format !== TRANSCRIPT_FORMAT || !Array.isArray(doc.entries)) {
    return { ok: false, entries: 0, head: null, status: null, problems: [`${jsonPath}: not a ${TRANSCRIPT_FORMAT} document`] };
  }
  let prev = GENESIS;
  doc.entries.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`entry ${i + 1}: sequence number is ${e.seq} (an entry was removed, added or moved)`);
    if (e.prev !== prev) problems.push(`entry ${i + 1}: 'prev' does not match the hash of entry ${i} (an entry was removed, added or moved)`);
    const h = entryHash(e);
    if (h !== e.hash) problems.push(`entry ${i + 1} (${e.kind}: ${e.summary}): hash mismatch, the entry was edited after it was written`);
    prev = e.hash;
  });
  const last = doc.entries.at(-1);
  if (last?.kind !== "result") problems.push("the transcript does not end with a result entry (truncated?)");
  if (options.head && last?.hash !== options.head) problems.push(`the last entry hash ${last?.hash ?? "(none)"} differs from the recorded head ${options.head}`);
  if (options.markdownPath) {
    let md: string | undefined;
    try {
      md = readFileSync(options.markdownPath, "utf8");
    } catch (err) {
      problems.push(`${options.markdownPath}: cannot read: ${(err as Error).message}`);
    }
    if (md !== undefined && md !== renderMarkdown(doc)) problems.push(`${options.markdownPath}: the Markdown differs from the rendering of the JSON transcript (it was edited)`);
  }
  return { ok: problems.length === 0, entries: doc.entries.length, head: last?.hash ?? null, status: (last?.data.status as string) ?? null, problems };
}
