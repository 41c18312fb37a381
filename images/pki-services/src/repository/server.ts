/**
 * The repository (RFC 3647 2.x, BR 2.2): CA certificates at their AIA URLs, CRLs at their CDP
 * URLs, the CP/CPS documents. Public side HTTP 8080: GET and HEAD of exactly the published files
 * (no directory listing, 404 for anything else), ETag / If-None-Match, and for a CRL cache
 * headers that end at its nextUpdate. Publish side 8443 (mTLS): PUT of a file by the CRL
 * publisher or the repository operator, written to a temp file, checked, renamed into place.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, openSync, readdirSync, readSync, closeSync, renameSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { readTlv, TAG } from "../pki/der.js";
import { listen, mtlsCaller, type Listening, type MtlsServerOptions } from "../ocsp/server.js";

/** What may be published, by folder: the URL path is `/<folder>/<name>`. */
export const FOLDERS: Record<string, { readonly types: Record<string, string>; readonly maxBytes: number }> = {
  certs: { types: { der: "application/pkix-cert", crt: "application/pkix-cert", cer: "application/pkix-cert", p7c: "application/pkcs7-mime" }, maxBytes: 1 << 20 },
  crl: { types: { crl: "application/pkix-crl" }, maxBytes: 1 << 30 },
  docs: { types: { pdf: "application/pdf", html: "text/html; charset=utf-8", txt: "text/plain; charset=utf-8", md: "text/markdown; charset=utf-8" }, maxBytes: 64 << 20 },
};
const NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/i;

interface Entry {
  readonly file: string;
  readonly size: number;
  readonly type: string;
  readonly etag: string;
  readonly lastModified: string;
  /** CRL: nextUpdate (ms). */
  readonly expires?: number;
  /** CRL: thisUpdate (ms). */
  readonly thisUpdate?: number;
}

function readTime(buf: Buffer, p: number, limit: number): { t: number; end: number } {
  const t = readTlv(buf, p, limit);
  const s = buf.toString("latin1", t.contentStart, t.end);
  const m = t.tag === TAG.UTCTime ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : t.tag === TAG.GeneralizedTime ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  if (!m) throw new Error(`bad time in CRL at byte ${p}`);
  let y = Number(m[1]);
  if (t.tag === TAG.UTCTime) y += y < 50 ? 2000 : 1900;
  return { t: Date.UTC(y, +m[2] - 1, +m[3], +m[4], +m[5], +m[6]), end: t.end };
}

/** thisUpdate / nextUpdate of a CRL file, from its first bytes only (RFC 5280 5.1). */
export function crlDates(file: string): { thisUpdate: number; nextUpdate: number } {
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(16 * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const hdr = (p: number) => {
    if (buf[p] !== TAG.SEQUENCE) throw new Error("not a DER CRL");
    const l = buf[p + 1];
    return p + 2 + (l & 0x80 ? l & 0x7f : 0);
  };
  let p = hdr(hdr(0)); // CertificateList, TBSCertList
  let t = readTlv(buf, p, n);
  if (t.tag === TAG.INTEGER) p = t.end; // version
  p = readTlv(buf, p, n).end; // signature
  p = readTlv(buf, p, n).end; // issuer
  const thisUpdate = readTime(buf, p, n);
  t = readTlv(buf, thisUpdate.end, n);
  if (t.tag !== TAG.UTCTime && t.tag !== TAG.GeneralizedTime) throw new Error("CRL without nextUpdate (required by RFC 5280 5.1.2.5 and BR 7.2)");
  return { thisUpdate: thisUpdate.t, nextUpdate: readTime(buf, thisUpdate.end, n).t };
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest("base64url").slice(0, 27);
}

export class RepositoryStore {
  private readonly index = new Map<string, Entry>();
  constructor(readonly root: string) {
    for (const f of Object.keys(FOLDERS)) mkdirSync(join(root, f), { recursive: true });
  }

  /** Indexes what is already on disk (after a restart). */
  async load(): Promise<number> {
    for (const folder of Object.keys(FOLDERS)) {
      for (const name of readdirSync(join(this.root, folder))) {
        if (!name.endsWith(".tmp")) await this.add(folder, name).catch(() => undefined);
      }
    }
    return this.index.size;
  }

  static typeOf(folder: string, name: string): string | undefined {
    const f = FOLDERS[folder];
    if (!f || !NAME.test(name)) return undefined;
    return f.types[name.slice(name.lastIndexOf(".") + 1).toLowerCase()];
  }

  private async add(folder: string, name: string): Promise<Entry> {
    const type = RepositoryStore.typeOf(folder, name);
    if (!type) throw new Error(`/${folder}/${name} is not a publishable name`);
    const file = join(this.root, folder, name);
    const st = statSync(file);
    let expires: number | undefined;
    let thisUpdate: number | undefined;
    let lastModified = st.mtime.toUTCString();
    if (folder === "crl") {
      const d = crlDates(file);
      expires = d.nextUpdate;
      thisUpdate = d.thisUpdate;
      lastModified = new Date(d.thisUpdate).toUTCString();
    }
    const e: Entry = { file, size: st.size, type, etag: `"${await sha256File(file)}"`, lastModified, expires, thisUpdate };
    this.index.set(`/${folder}/${name}`, e);
    return e;
  }

  get(path: string): Entry | undefined {
    return this.index.get(path);
  }

  /** Streams a published body into place: temp file, size limit, check, rename. */
  async publish(folder: string, name: string, body: NodeJS.ReadableStream): Promise<Entry> {
    const type = RepositoryStore.typeOf(folder, name);
    if (!type) throw new Error(`/${folder}/${name} is not a publishable name`);
    const max = FOLDERS[folder].maxBytes;
    const final = join(this.root, folder, name);
    const tmp = `${final}.${process.pid}.${Date.now()}.tmp`;
    const ws = createWriteStream(tmp);
    let size = 0;
    try {
      for await (const c of body) {
        size += (c as Buffer).length;
        if (size > max) throw new Error(`larger than ${max} bytes`);
        if (!ws.write(c)) await once(ws, "drain");
      }
      ws.end();
      await once(ws, "finish");
      if (folder === "crl") {
        const d = crlDates(tmp);
        if (d.nextUpdate <= Date.now()) throw new Error("the CRL's nextUpdate has passed");
        // Two publishers (CronJob + watcher, or both sites) may race: never replace a CRL by an older one.
        const current = this.index.get(`/${folder}/${name}`);
        if (current?.thisUpdate !== undefined && d.thisUpdate < current.thisUpdate) {
          throw new Error(`a newer CRL (thisUpdate ${new Date(current.thisUpdate).toISOString()}) is already published`);
        }
      }
      if (type === "application/pkix-cert") {
        const head = Buffer.alloc(Math.min(size, 8));
        const fd = openSync(tmp, "r");
        readSync(fd, head, 0, head.length, 0);
        closeSync(fd);
        if (head[0] !== TAG.SEQUENCE) throw new Error("not a DER certificate");
      }
      renameSync(tmp, final);
      return await this.add(folder, name);
    } finally {
      ws.destroy();
      rmSync(tmp, { force: true });
    }
  }
}

/** Public handler: GET/HEAD of published files only. */
export function repositoryHandler(store: RepositoryStore): http.RequestListener {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-length": 0 });
      return res.end();
    }
    const path = (req.url ?? "/").split("?")[0];
    const e = store.get(path);
    if (!e) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "content-length": 10 });
      return res.end(req.method === "HEAD" ? undefined : "not found\n");
    }
    const now = Date.now();
    const headers: Record<string, string | number> = { "content-type": e.type, etag: e.etag, "last-modified": e.lastModified, "x-content-type-options": "nosniff" };
    if (e.expires !== undefined) {
      // RFC 5019 6.2-style: caches keep a CRL until its nextUpdate, not beyond.
      headers["cache-control"] = `public, max-age=${Math.max(0, Math.floor((e.expires - now) / 1000))}, no-transform, must-revalidate`;
      headers.expires = new Date(e.expires).toUTCString();
    } else headers["cache-control"] = "public, max-age=3600, no-transform";
    if (req.headers["if-none-match"] === e.etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    headers["content-length"] = e.size;
    res.writeHead(200, headers);
    if (req.method === "HEAD") return res.end();
    createReadStream(e.file).on("error", () => res.destroy()).pipe(res);
  };
}

export async function serveRepository(store: RepositoryStore, o: { host: string; port: number }): Promise<Listening> {
  return listen(http.createServer(repositoryHandler(store)), o.host, o.port);
}

/** Publish port (8443, mTLS): PUT /<folder>/<name>. */
export async function serveRepositoryPublish(store: RepositoryStore, o: MtlsServerOptions, log: (line: Record<string, unknown>) => void = () => undefined): Promise<Listening> {
  const server = https.createServer({ key: o.key, cert: o.cert, ca: o.clientCa, requestCert: true, rejectUnauthorized: true }, async (req, res) => {
    const json = (status: number, body: unknown) => {
      const b = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
      res.end(b);
    };
    const caller = mtlsCaller(req, o.allowedClients);
    if (!caller) return json(403, { error: "forbidden" });
    const m = /^\/([a-z]+)\/([^/]+)$/.exec((req.url ?? "").split("?")[0]);
    if (req.method !== "PUT" || !m || !RepositoryStore.typeOf(m[1], m[2])) return json(404, { error: "not a publishable path" });
    try {
      const e = await store.publish(m[1], m[2], req);
      log({ event: "repository.publish", caller, path: `/${m[1]}/${m[2]}`, size: e.size, etag: e.etag });
      json(200, { path: `/${m[1]}/${m[2]}`, size: e.size, etag: e.etag });
    } catch (err) {
      json(400, { error: err instanceof Error ? err.message : String(err) });
    }
  });
  return listen(server as unknown as http.Server, o.host, o.port);
}
