/**
 * The repository (RFC 3647 2.x, BR 2.2): CA certificates at their AIA URLs, CRLs at their CDP
 * URLs, the CP/CPS documents. Public side HTTP 8080: GET and HEAD of exactly the published files
 * (no directory listing, 404 for anything else), ETag / If-None-Match, and for a CRL cache
 * headers that end at its nextUpdate. Publish side 8443 (mTLS): PUT of a file by the CRL
 * publisher or the repository operator, written to a temp file, checked, renamed into place.
 *
 * Nothing is taken on trust (BR 2.2, NCSSR 1.2): each publisher may write only its own paths
 * ({@link mayPublish}); a certificate must be one DER X.509 CA certificate; a CRL must be whole
 * and verify against the certificate of the CA it is named after (`/crl/<ca>.crl` against
 * `/certs/<ca>.der`, published first) with that CA's name as issuer; a document must be what its
 * extension says. Files are served from the root only: symbolic links are neither indexed nor
 * opened (O_NOFOLLOW), and every answer carries a sandboxing Content-Security-Policy.
 */
import { createHash, createVerify, X509Certificate } from "node:crypto";
import { constants, createReadStream, createWriteStream, lstatSync, mkdirSync, openSync, readdirSync, readSync, closeSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import "reflect-metadata";
import { X509Certificates } from "@peculiar/x509";
import { children, content, oidToString, raw, readTlv, TAG } from "../pki/der.js";
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
  if (p >= buf.length) throw new Error(`CRL header longer than ${buf.length} bytes`);
  const t = readTlv(buf, p, limit);
  const s = buf.toString("latin1", t.contentStart, t.end);
  const m = t.tag === TAG.UTCTime ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : t.tag === TAG.GeneralizedTime ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  if (!m) throw new Error(`bad time in CRL at byte ${p}`);
  let y = Number(m[1]);
  if (t.tag === TAG.UTCTime) y += y < 50 ? 2000 : 1900;
  return { t: Date.UTC(y, +m[2] - 1, +m[3], +m[4], +m[5], +m[6]), end: t.end };
}

/** Hash of each signature algorithm a CA of this project signs with (RFC 5758 3.2, RFC 4055 5). */
const SIGNATURE_HASH: Record<string, string> = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};

export class PublishRejected extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "PublishRejected";
  }
}

function readAt(file: string, position: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export interface CrlFacts {
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  /** DER of the issuer Name. */
  readonly issuer: Buffer;
}

/**
 * Reads a CRL file's frame (RFC 5280 5.1) from its first and last bytes, without loading its
 * entries: the CertificateList must fill the file exactly (a truncated or padded file is refused),
 * TBSCertList.signature must equal signatureAlgorithm, and nextUpdate must be present (BR 7.2).
 * With `issuer`, the signature over the TBSCertList is verified with the issuer's key while the
 * file is streamed, and the CRL's issuer must be that certificate's subject.
 */
export async function checkCrlFile(file: string, issuer?: X509Certificate): Promise<CrlFacts> {
  const size = statSync(file).size;
  const buf = readAt(file, 0, Math.min(size, 64 * 1024));
  try {
    const outer = readTlv(buf, 0, size);
    if (outer.tag !== TAG.SEQUENCE) throw new Error("not a DER CRL (CertificateList SEQUENCE)");
    if (outer.end !== size) throw new Error(`the CertificateList is ${outer.end} bytes but the file has ${size}: truncated or padded`);
    const tbs = readTlv(buf, outer.contentStart, size);
    if (tbs.tag !== TAG.SEQUENCE) throw new Error("TBSCertList is not a SEQUENCE");
    let p = tbs.contentStart;
    let t = readTlv(buf, p, tbs.end);
    if (t.tag === TAG.INTEGER) {
      if (t.end - t.contentStart !== 1 || buf[t.contentStart] !== 1) throw new Error("TBSCertList version is not v2 (1)");
      p = t.end;
      t = readTlv(buf, p, tbs.end);
    }
    const innerAlg = raw(buf, t);
    const issuerT = readTlv(buf, t.end, tbs.end);
    if (issuerT.tag !== TAG.SEQUENCE) throw new Error("issuer is not a Name");
    const issuerName = Buffer.from(raw(buf, issuerT));
    const thisUpdate = readTime(buf, issuerT.end, tbs.end);
    t = readTlv(buf, thisUpdate.end, tbs.end);
    if (t.tag !== TAG.UTCTime && t.tag !== TAG.GeneralizedTime) throw new Error("CRL without nextUpdate (required by RFC 5280 5.1.2.5 and BR 7.2)");
    const nextUpdate = readTime(buf, thisUpdate.end, tbs.end);
    // signatureAlgorithm and signatureValue follow the TBSCertList: read them from the end
    const tailLen = size - tbs.end;
    if (tailLen > 4096) throw new Error("more than a signature follows the TBSCertList");
    const tail = readAt(file, tbs.end, tailLen);
    const algT = readTlv(tail, 0);
    const sigT = readTlv(tail, algT.end);
    if (sigT.end !== tail.length || sigT.tag !== TAG.BIT_STRING) throw new Error("signatureValue is not the last field");
    if (!raw(tail, algT).equals(innerAlg)) throw new Error("TBSCertList.signature differs from signatureAlgorithm (RFC 5280 5.1.1.2)");
    const facts = { thisUpdate: thisUpdate.t, nextUpdate: nextUpdate.t, issuer: issuerName };
    if (!issuer) return facts;
    const algOid = oidToString(content(tail, children(tail, algT)[0]));
    const hash = SIGNATURE_HASH[algOid];
    if (!hash) throw new Error(`signature algorithm ${algOid} is not one this CA uses (BR 7.1.3.2)`);
    const subject = certificateSubject(issuer.raw);
    if (!issuerName.equals(subject)) throw new Error(`its issuer is not "${issuer.subject.replace(/\n/g, ", ")}" (RFC 5280 5.1.2.3)`);
    const v = createVerify(hash);
    for await (const c of createReadStream(file, { start: outer.contentStart, end: tbs.end - 1 })) v.update(c as Buffer);
    const sig = content(tail, sigT);
    if (sig[0] !== 0 || !v.verify(issuer.publicKey, sig.subarray(1))) throw new Error(`its signature does not verify with the key of "${issuer.subject.replace(/\n/g, ", ")}"`);
    return facts;
  } catch (err) {
    throw new PublishRejected(422, `not a valid CRL: ${(err as Error).message}`);
  }
}

/** The subject Name DER of a certificate. */
function certificateSubject(der: Buffer): Buffer {
  const f = children(der, children(der, readTlv(der, 0))[0]);
  return raw(der, f[f[0].tag === 0xa0 ? 5 : 4]);
}

/** One DER X.509 CA certificate, nothing before or after it. */
export function checkCaCertificate(bytes: Buffer): X509Certificate {
  let cert: X509Certificate;
  try {
    const t = readTlv(bytes, 0);
    if (t.tag !== TAG.SEQUENCE || t.end !== bytes.length) throw new Error("not exactly one DER certificate");
    cert = new X509Certificate(bytes);
  } catch (err) {
    throw new PublishRejected(422, `not a DER X.509 certificate: ${(err as Error).message}`);
  }
  // the repository publishes CA certificates (BR 2.2, the AIA caIssuers of RFC 5280 4.2.2.1)
  if (!cert.ca) throw new PublishRejected(422, `"${cert.subject.replace(/\n/g, ", ")}" is not a CA certificate (basicConstraints cA): only CA certificates are published`);
  return cert;
}

/** A document is what its extension says (checked on the whole file, at most 64 MiB). */
function checkDocument(ext: string, bytes: Buffer): void {
  if (ext === "pdf") {
    if (!bytes.subarray(0, 5).equals(Buffer.from("%PDF-"))) throw new PublishRejected(422, "not a PDF document (no %PDF- header)");
    return;
  }
  // text, Markdown, HTML: UTF-8 without NUL
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new PublishRejected(422, "not UTF-8 text");
  }
  const nul = text.indexOf("\u0000");
  if (nul >= 0) throw new PublishRejected(422, `a NUL character at offset ${nul}: not a text document`);
}

/**
 * Which publisher may write which path: `crl-publisher-<ca>` (and its watcher,
 * `crl-publisher-<ca>-watch`) only `/crl/<ca>.crl`; the repository operator CA certificates,
 * documents and the CRLs signed in ceremonies (the offline root's). Anyone else: nothing.
 */
export function mayPublish(caller: string, folder: string, name: string): boolean {
  if (caller === "repository-operator") return true;
  const m = /^crl-publisher-([a-z0-9-]+)$/.exec(caller);
  if (!m || folder !== "crl") return false;
  const ca = [m[1], m[1].replace(/-watch$/, "")];
  return ca.some((c) => name === `${c}.crl`);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest("base64url").slice(0, 27);
}

export class RepositoryStore {
  private readonly index = new Map<string, Entry>();
  /** Files found at load that are not served, with why (symbolic links, unreadable, invalid). */
  readonly skipped: { path: string; reason: string }[] = [];
  constructor(readonly root: string) {
    for (const f of Object.keys(FOLDERS)) {
      const dir = join(root, f);
      mkdirSync(dir, { recursive: true });
      const st = lstatSync(dir);
      if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${dir} is ${st.isSymbolicLink() ? "a symbolic link" : "not a directory"}: the repository serves only files inside its root`);
    }
  }

  /** Indexes what is already on disk (after a restart): regular files only, each checked as
   *  when it was published (CRLs against the CA certificates, so those first). */
  async load(): Promise<number> {
    for (const folder of ["certs", "docs", "crl"]) {
      for (const name of readdirSync(join(this.root, folder))) {
        if (name.endsWith(".tmp")) continue;
        const path = `/${folder}/${name}`;
        const st = lstatSync(join(this.root, folder, name));
        if (!st.isFile()) {
          this.skipped.push({ path, reason: st.isSymbolicLink() ? "a symbolic link: never followed out of the root" : "not a regular file" });
          continue;
        }
        try {
          await this.check(folder, name, join(this.root, folder, name), st.size);
          await this.add(folder, name);
        } catch (err) {
          this.skipped.push({ path, reason: (err as Error).message });
        }
      }
    }
    return this.index.size;
  }

  /** The checks of {@link publish} on the file at `file`, to be published as /folder/name. */
  private async check(folder: string, name: string, file: string, size: number): Promise<CrlFacts | undefined> {
    const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
    if (folder === "certs") {
      const bytes = readAt(file, 0, size);
      if (ext === "p7c") {
        try {
          if (new X509Certificates(bytes).length === 0) throw new Error("no certificate in it");
        } catch (err) {
          throw new PublishRejected(422, `not a PKCS#7 certs-only bundle: ${(err as Error).message}`);
        }
      } else checkCaCertificate(bytes);
      return undefined;
    }
    if (folder === "docs") {
      checkDocument(ext, readAt(file, 0, size));
      return undefined;
    }
    // /crl/<ca>.crl verifies against /certs/<ca>.der
    const ca = name.slice(0, -".crl".length);
    const certEntry = this.index.get(`/certs/${ca}.der`);
    if (!certEntry) throw new PublishRejected(409, `no /certs/${ca}.der is published: a CRL named after CA "${ca}" is verified against that CA's certificate, publish it first`);
    const issuer = new X509Certificate(readAt(certEntry.file, 0, certEntry.size));
    return checkCrlFile(file, issuer);
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
      const d = await checkCrlFile(file);
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

  /** Streams a published body into place: temp file (created, never followed), size limit,
   *  check, rename. Throws {@link PublishRejected} with the HTTP status and the reason. */
  async publish(folder: string, name: string, body: NodeJS.ReadableStream): Promise<Entry> {
    const type = RepositoryStore.typeOf(folder, name);
    if (!type) throw new PublishRejected(404, `/${folder}/${name} is not a publishable name`);
    const max = FOLDERS[folder].maxBytes;
    const final = join(this.root, folder, name);
    const tmp = `${final}.${process.pid}.${Date.now()}.tmp`;
    // O_EXCL | O_NOFOLLOW: a link planted at the temp name is never written through
    const ws = createWriteStream(tmp, { fd: openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644) });
    let size = 0;
    try {
      for await (const c of body) {
        size += (c as Buffer).length;
        if (size > max) throw new PublishRejected(413, `larger than ${max} bytes`);
        if (!ws.write(c)) await once(ws, "drain");
      }
      ws.end();
      await once(ws, "finish");
      const d = await this.check(folder, name, tmp, size);
      if (d) {
        if (d.nextUpdate <= Date.now()) throw new PublishRejected(422, "the CRL's nextUpdate has passed");
        // Two publishers (CronJob + watcher, or both sites) may race: never replace a CRL by an older one.
        const current = this.index.get(`/${folder}/${name}`);
        if (current?.thisUpdate !== undefined && d.thisUpdate < current.thisUpdate) {
          throw new PublishRejected(409, `a newer CRL (thisUpdate ${new Date(current.thisUpdate).toISOString()}) is already published`);
        }
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
    const notFound = () => {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "content-length": 10 });
      res.end(req.method === "HEAD" ? undefined : "not found\n");
    };
    if (!e) return notFound();
    const now = Date.now();
    // sandbox: a published document never runs script in the repository's origin
    const headers: Record<string, string | number> = {
      "content-type": e.type,
      etag: e.etag,
      "last-modified": e.lastModified,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; sandbox",
    };
    if (e.expires !== undefined) {
      // RFC 5019 6.2-style: caches keep a CRL until its nextUpdate, not beyond.
      headers["cache-control"] = `public, max-age=${Math.max(0, Math.floor((e.expires - now) / 1000))}, no-transform, must-revalidate`;
      headers.expires = new Date(e.expires).toUTCString();
    } else headers["cache-control"] = "public, max-age=3600, no-transform";
    if (req.headers["if-none-match"] === e.etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    // O_NOFOLLOW: a file swapped for a link after it was indexed is not served
    open(e.file, constants.O_RDONLY | constants.O_NOFOLLOW).then(
      async (fh) => {
        const st = await fh.stat();
        if (!st.isFile()) {
          await fh.close();
          return notFound();
        }
        headers["content-length"] = st.size;
        res.writeHead(200, headers);
        if (req.method === "HEAD") {
          await fh.close();
          return res.end();
        }
        fh.createReadStream()
          .on("error", () => res.destroy())
          .pipe(res);
      },
      () => notFound(),
    );
  };
}

export async function serveRepository(store: RepositoryStore, o: { host: string; port: number }): Promise<Listening> {
  return listen(http.createServer(repositoryHandler(store)), o.host, o.port);
}

/** Publish port (8443, mTLS): PUT /<folder>/<name>. */
export async function serveRepositoryPublish(store: RepositoryStore, o: MtlsServerOptions, log: (line: Record<string, unknown>) => void = () => undefined): Promise<Listening> {
  const server = https.createServer({ key: o.key, cert: o.cert, ca: o.clientCa, requestCert: true, rejectUnauthorized: true }, async (req, res) => {
    const json = (status: number, body: unknown) => {
      if (res.headersSent) return;
      const b = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
      res.end(b);
    };
    const path = (req.url ?? "").split("?")[0];
    const caller = mtlsCaller(req, o.allowedClients);
    const refuse = (status: number, error: string) => {
      log({ event: "repository.publish.rejected", caller: caller ?? "unauthorized", path, status, error });
      json(status, { error });
      req.resume(); // read what is still coming, so the client reads the answer
    };
    if (!caller) return refuse(403, "forbidden");
    const m = /^\/([a-z]+)\/([^/]+)$/.exec(path);
    if (req.method !== "PUT" || !m || !RepositoryStore.typeOf(m[1], m[2])) return refuse(404, "not a publishable path");
    if (!mayPublish(caller, m[1], m[2])) return refuse(403, `"${caller}" may not publish ${path}`);
    const ct = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    const ext = m[2].slice(m[2].lastIndexOf(".") + 1).toLowerCase();
    if (ct !== "application/octet-stream" && ct !== FOLDERS[m[1]].types[ext].split(";")[0]) return refuse(415, `content-type must be application/octet-stream or ${FOLDERS[m[1]].types[ext].split(";")[0]}, not "${ct}"`);
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > FOLDERS[m[1]].maxBytes) return refuse(413, `larger than ${FOLDERS[m[1]].maxBytes} bytes`);
    try {
      const e = await store.publish(m[1], m[2], req);
      log({ event: "repository.publish", caller, path, size: e.size, etag: e.etag });
      json(200, { path, size: e.size, etag: e.etag });
    } catch (err) {
      if (err instanceof PublishRejected) return refuse(err.status, err.message);
      refuse(500, (err as Error).message);
    }
  });
  return listen(server as unknown as http.Server, o.host, o.port);
}
