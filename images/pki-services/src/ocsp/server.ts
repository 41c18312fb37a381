/**
 * The public OCSP responder (`ocsp-responder --serve`, HTTP 8080): no HSM, no database. It
 * answers from the pre-signed responses pushed to it (publish port 8443, mTLS), so it keeps
 * answering while the HSM or the database is down, until the responses expire.
 *
 * - GET (RFC 6960 A.1.1, base64 of the DER in the path, URL-encoded) and POST
 *   (application/ocsp-request), RFC 5019 cache headers.
 * - A serial it holds no response for — never issued, another CA, or not pushed yet — gets the
 *   unsigned `unauthorized` (RFC 6960 2.3 / RFC 5019 2.2.3), never `good` (BR 4.9.9); see
 *   docs/adr/0051 for why not `unknown`.
 * - Malformed, oversized or unsupported requests: `malformedRequest` with HTTP 400.
 * - A response past its nextUpdate is never served: `tryLater`.
 * - Nonce (RFC 8954): a request nonce of 1..32 octets is accepted and the pre-signed response is
 *   returned without it (RFC 8954 2.1 / RFC 6960 4.4.1 let a responder not echo it; RFC 5019
 *   responders do not); 0 or more than 32 octets is malformedRequest.
 */
import { randomUUID, createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { readTlv } from "../pki/der.js";
import { ERROR_RESPONSE, MAX_REQUEST_BYTES, OcspRequestError, parseRequest, summarizeResponse } from "./protocol.js";

interface Cached {
  readonly der: Buffer;
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly expires: string;
}

export class ResponseCache {
  /** Changes when the process restarts: the signer then pushes everything again. */
  readonly instance = randomUUID();
  private readonly map = new Map<string, Cached>();

  get size(): number {
    return this.map.size;
  }

  /** Indexes one pushed response; an older response never replaces a newer one. */
  put(der: Buffer, now = Date.now()): boolean {
    const s = summarizeResponse(der);
    if (s.nextUpdate <= now) return false;
    const old = this.map.get(s.key);
    if (old && old.thisUpdate > s.thisUpdate) return false;
    this.map.set(s.key, {
      der, thisUpdate: s.thisUpdate, nextUpdate: s.nextUpdate,
      etag: `"${createHash("sha256").update(der).digest("base64url").slice(0, 27)}"`,
      lastModified: new Date(s.thisUpdate).toUTCString(), expires: new Date(s.nextUpdate).toUTCString(),
    });
    return true;
  }

  /** Splits a body of concatenated DER OCSPResponses and indexes each. */
  putAll(body: Buffer, now = Date.now()): { accepted: number; rejected: number } {
    let p = 0;
    let accepted = 0;
    let rejected = 0;
    while (p < body.length) {
      const t = readTlv(body, p);
      try {
        if (this.put(body.subarray(t.start, t.end), now)) accepted++;
        else rejected++;
      } catch {
        rejected++;
      }
      p = t.end;
    }
    return { accepted, rejected };
  }

  get(key: string): Cached | undefined {
    return this.map.get(key);
  }

  /** Every held response as concatenated DER (what `putAll` reads), in pieces of about
   *  `maxBytes`: the journal's compaction and the full copy a new cluster worker gets. */
  *snapshot(maxBytes = 8 << 20): Generator<Buffer> {
    let part: Buffer[] = [];
    let size = 0;
    for (const c of this.map.values()) {
      part.push(c.der);
      size += c.der.length;
      if (size >= maxBytes) {
        yield Buffer.concat(part);
        part = [];
        size = 0;
      }
    }
    if (part.length) yield Buffer.concat(part);
  }

  private journal?: string;

  /**
   * Keeps pushed responses in `file` (append-only, compacted at start) so that a responder that
   * restarts while the signer, HSM or database is down still answers until the responses expire.
   * Responses are public, signed data: nothing secret is written.
   */
  persistTo(file: string, now = Date.now()): { loaded: number } {
    let loaded = 0;
    if (existsSync(file)) {
      try {
        loaded = this.putAll(readFileSync(file), now).accepted;
      } catch {
        /* a torn last write: what was read before it is kept */
      }
    }
    this.journal = file;
    this.compact();
    return { loaded };
  }

  private journalBytes = 0;

  /** Rewrites the journal with the live responses only. */
  private compact(): void {
    if (!this.journal) return;
    const tmp = `${this.journal}.tmp`;
    const fd = openSync(tmp, "w");
    let bytes = 0;
    try {
      for (const part of this.snapshot()) bytes += writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.journal);
    this.journalBytes = bytes;
  }

  /** putAll + append to the journal (when persisting). */
  receive(body: Buffer, now = Date.now()): { accepted: number; rejected: number } {
    const r = this.putAll(body, now);
    if (this.journal && r.accepted) {
      appendFileSync(this.journal, body);
      this.journalBytes += body.length;
      // refreshes re-send every response: keep the journal within ~3x the live set
      if (this.journalBytes > 3 * this.map.size * 1024 + (1 << 20)) this.compact();
    }
    return r;
  }

  /** Drops expired responses (called periodically). */
  sweep(now = Date.now()): void {
    for (const [k, v] of this.map) if (v.nextUpdate <= now) this.map.delete(k);
  }
}

const OCSP_TYPE = "application/ocsp-response";

/** Headers added to every answer (x-ocsp-worker in cluster mode), in writeHead's own object:
 *  a setHeader before writeHead takes Node's slower header-merging path. */
type Extra = Readonly<Record<string, string>>;
const NO_EXTRA: Extra = {};

function sendError(res: http.ServerResponse, status: number, body: Buffer, extra: Extra = NO_EXTRA): void {
  res.writeHead(status, { "content-type": OCSP_TYPE, "content-length": body.length, "cache-control": "no-store", ...extra });
  res.end(body);
}

function answer(cache: ResponseCache, der: Buffer, req: http.IncomingMessage, res: http.ServerResponse, extra: Extra): void {
  let key: string;
  try {
    key = parseRequest(der).key;
  } catch (err) {
    if (err instanceof OcspRequestError) return sendError(res, 400, ERROR_RESPONSE.malformedRequest, extra);
    return sendError(res, 500, ERROR_RESPONSE.internalError, extra);
  }
  const c = cache.get(key);
  const now = Date.now();
  if (!c) return sendError(res, 200, ERROR_RESPONSE.unauthorized, extra);
  if (c.nextUpdate <= now) return sendError(res, 200, ERROR_RESPONSE.tryLater, extra);
  // RFC 5019 6.2: caching headers follow the response's own validity.
  const maxAge = Math.max(0, Math.floor((c.nextUpdate - now) / 1000));
  if (req.headers["if-none-match"] === c.etag) {
    res.writeHead(304, { etag: c.etag, "cache-control": `max-age=${maxAge}, public, no-transform, must-revalidate`, ...extra });
    res.end();
    return;
  }
  res.writeHead(200, {
    "content-type": OCSP_TYPE, "content-length": c.der.length, etag: c.etag, "last-modified": c.lastModified, expires: c.expires,
    "cache-control": `max-age=${maxAge}, public, no-transform, must-revalidate`, ...extra,
  });
  res.end(c.der);
}

/** The OCSP request handler (GET and POST). `worker`: the cluster worker's id, sent as
 *  `x-ocsp-worker` on every answer (which process answered; nothing secret). */
export function ocspHandler(cache: ResponseCache, o: { worker?: string } = {}): http.RequestListener {
  const extra: Extra = o.worker ? { "x-ocsp-worker": o.worker } : NO_EXTRA;
  return (req, res) => {
    try {
      if (req.method === "GET") {
        const url = req.url ?? "/";
        const path = url.slice(1);
        if (path.length === 0 || path.length > MAX_REQUEST_BYTES * 3) return sendError(res, 400, ERROR_RESPONSE.malformedRequest, extra);
        let b64: string;
        try {
          b64 = decodeURIComponent(path);
        } catch {
          return sendError(res, 400, ERROR_RESPONSE.malformedRequest, extra);
        }
        if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) return sendError(res, 400, ERROR_RESPONSE.malformedRequest, extra);
        return answer(cache, Buffer.from(b64, "base64"), req, res, extra);
      }
      if (req.method === "POST") {
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        req.on("data", (c: Buffer) => {
          if (done) return;
          size += c.length;
          if (size > MAX_REQUEST_BYTES) {
            done = true;
            res.setHeader("connection", "close");
            sendError(res, 400, ERROR_RESPONSE.malformedRequest, extra);
            req.resume();
            return;
          }
          chunks.push(c);
        });
        req.on("end", () => {
          if (done) return;
          done = true;
          answer(cache, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), req, res, extra);
        });
        req.on("error", () => res.destroy());
        return;
      }
      res.writeHead(405, { allow: "GET, POST", "content-length": 0, ...extra });
      res.end();
    } catch {
      if (!res.headersSent) sendError(res, 500, ERROR_RESPONSE.internalError, extra);
      else res.destroy();
    }
  };
}

export interface Listening {
  readonly server: http.Server;
  readonly port: number;
  close(): Promise<void>;
}

export function listen(server: http.Server, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        server, port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections?.(); }),
      });
    });
  });
}

export async function serveOcsp(cache: ResponseCache, o: { host: string; port: number; worker?: string }): Promise<Listening> {
  const server = http.createServer({ keepAliveTimeout: 30_000 }, ocspHandler(cache, o));
  const sweep = setInterval(() => cache.sweep(), 60_000);
  sweep.unref();
  server.on("close", () => clearInterval(sweep));
  return listen(server, o.host, o.port);
}

export interface MtlsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly key: Buffer;
  readonly cert: Buffer;
  /** CA certificates that issue the publishers' client certificates. */
  readonly clientCa: Buffer;
  /** Subject CNs allowed to publish (e.g. "ocsp-signer-issuing-ca-1"). */
  readonly allowedClients: readonly string[];
}

/** Reads a request body up to `limit` bytes; rejects beyond. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error(`body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The caller's CN from its verified client certificate, when allowed. */
export function mtlsCaller(req: http.IncomingMessage, allowed: readonly string[]): string | undefined {
  const sock = req.socket as TLSSocket;
  if (!sock.authorized) return undefined;
  const cn = sock.getPeerCertificate()?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  // an entry ending in "*" is a prefix: "ocsp-signer-*" admits ocsp-signer-<any CA>
  return name && allowed.some((a) => (a.endsWith("*") ? name.startsWith(a.slice(0, -1)) : a === name)) ? name : undefined;
}

/** Publish port (8443, mTLS): POST /ocsp with concatenated DER responses. `fanOut` (cluster
 *  mode) gets every body that added something and is awaited before the 200: the signer's push
 *  returns once every serving process has it. */
export async function serveOcspPublish(cache: ResponseCache, o: MtlsServerOptions & { fanOut?: (body: Buffer) => Promise<void> }): Promise<Listening> {
  const server = https.createServer({ key: o.key, cert: o.cert, ca: o.clientCa, requestCert: true, rejectUnauthorized: true }, async (req, res) => {
    const caller = mtlsCaller(req, o.allowedClients);
    const json = (status: number, body: unknown) => {
      const b = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
      res.end(b);
    };
    if (!caller) return json(403, { error: "forbidden" });
    if (req.method !== "POST" || req.url !== "/ocsp") return json(404, { error: "not found" });
    try {
      const body = await readBody(req, 512 * 1024 * 1024);
      const r = cache.receive(body);
      if (o.fanOut && r.accepted) await o.fanOut(body);
      json(200, { instance: cache.instance, ...r, size: cache.size });
    } catch (err) {
      json(400, { error: err instanceof Error ? err.message : String(err) });
    }
  });
  return listen(server as unknown as http.Server, o.host, o.port);
}
