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
 * - Several CertIDs in one request (well-formed, RFC 6960 4.1.1): every response here is
 *   pre-signed for one certificate, so the limit of RFC 5019 2.1.1 applies: an OCSP response
 *   `malformedRequest` with HTTP 200 and an `x-ocsp-limit` header saying to send one request per
 *   certificate (ADR 0072). OpenSSL, NSS and browsers send one CertID per request.
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
import { ERROR_RESPONSE, MAX_REQUEST_BYTES, OcspRequestError, OcspRequestLimit, parseRequest, summarizeResponse, type ResponseSummary } from "./protocol.js";
import { PushRejected, type OcspPushTrust } from "./push-trust.js";

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

  /** Indexes one response; an older response never replaces a newer one. `s`: what it is for,
   *  when already read (a verified push). */
  put(der: Buffer, now = Date.now(), s: Pick<ResponseSummary, "key" | "thisUpdate" | "nextUpdate"> = summarizeResponse(der)): boolean {
    if (s.nextUpdate <= now) return false;
    const old = this.map.get(s.key);
    if (old && old.thisUpdate > s.thisUpdate) return false;
    this.map.set(s.key, {
      der,
      thisUpdate: s.thisUpdate,
      nextUpdate: s.nextUpdate,
      etag: `"${createHash("sha256").update(der).digest("base64url").slice(0, 27)}"`,
      lastModified: new Date(s.thisUpdate).toUTCString(),
      expires: new Date(s.nextUpdate).toUTCString(),
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

  /** Appends responses already taken by {@link put} to the journal (when persisting). */
  journalAppend(body: Buffer): void {
    if (!this.journal || !body.length) return;
    appendFileSync(this.journal, body);
    this.journalBytes += body.length;
    // refreshes re-send every response: keep the journal within ~3x the live set
    if (this.journalBytes > 3 * this.map.size * 1024 + (1 << 20)) this.compact();
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
    if (err instanceof OcspRequestLimit) sendError(res, 200, ERROR_RESPONSE.malformedRequest, { ...extra, "x-ocsp-limit": "one certificate per request (RFC 5019 2.1.1)" });
    else sendError(res, err instanceof OcspRequestError ? 400 : 500, err instanceof OcspRequestError ? ERROR_RESPONSE.malformedRequest : ERROR_RESPONSE.internalError, extra);
    return;
  }
  const c = cache.get(key);
  const now = Date.now();
  if (!c || c.nextUpdate <= now) {
    sendError(res, 200, c ? ERROR_RESPONSE.tryLater : ERROR_RESPONSE.unauthorized, extra);
    return;
  }
  // RFC 5019 6.2: caching headers follow the response's own validity.
  const maxAge = Math.max(0, Math.floor((c.nextUpdate - now) / 1000));
  if (req.headers["if-none-match"] === c.etag) {
    res.writeHead(304, { etag: c.etag, "cache-control": `max-age=${maxAge}, public, no-transform, must-revalidate`, ...extra });
    res.end();
    return;
  }
  res.writeHead(200, {
    "content-type": OCSP_TYPE,
    "content-length": c.der.length,
    etag: c.etag,
    "last-modified": c.lastModified,
    expires: c.expires,
    "cache-control": `max-age=${maxAge}, public, no-transform, must-revalidate`,
    ...extra,
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
        server,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections?.();
          }),
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

/** The caller's CN from its verified client certificate, when allowed. */
export function mtlsCaller(req: http.IncomingMessage, allowed: readonly string[]): string | undefined {
  const sock = req.socket as TLSSocket;
  if (!sock.authorized) return undefined;
  const cn = sock.getPeerCertificate()?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  // an entry ending in "*" is a prefix: "ocsp-signer-*" admits ocsp-signer-<any CA>
  return name && allowed.some((a) => (a.endsWith("*") ? name.startsWith(a.slice(0, -1)) : a === name)) ? name : undefined;
}

/** Largest push body (a signer page is 10,000 certificates × 2 CertIDs × ~1.5 KB ≈ 30 MB). */
export const MAX_PUSH_BYTES = 64 << 20;
/** Largest single pushed OCSPResponse (ours are ~1.5 KB with the responder certificate). */
export const MAX_PUSHED_RESPONSE_BYTES = 64 << 10;

/** Splits a body of concatenated DER OCSPResponses as it arrives, chunk by chunk: framing
 *  errors (anything but a SEQUENCE, an oversized item, a torn end) stop the push at once. */
export class ResponseSplitter {
  private pending = Buffer.alloc(0);
  private consumed = 0;
  constructor(private readonly maxItem = MAX_PUSHED_RESPONSE_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    const b = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let p = 0;
    while (b.length - p >= 2) {
      const at = this.consumed + p;
      if (b[p] !== 0x30) throw new PushRejected(`byte ${at}: expected an OCSPResponse (SEQUENCE, 0x30), found 0x${b[p].toString(16).padStart(2, "0")}`);
      let len = b[p + 1];
      let hdr = 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        if (n === 0 || n > 3) throw new PushRejected(`byte ${at}: bad DER length`);
        if (b.length - p < 2 + n) break;
        len = 0;
        for (let k = 0; k < n; k++) len = (len << 8) | b[p + 2 + k];
        hdr += n;
      }
      if (hdr + len > this.maxItem) throw new PushRejected(`byte ${at}: an OCSPResponse of ${hdr + len} bytes is larger than the ${this.maxItem} allowed`);
      if (b.length - p < hdr + len) break;
      out.push(Buffer.from(b.subarray(p, p + hdr + len))); // a copy: the chunk is not kept alive
      p += hdr + len;
    }
    this.consumed += p;
    this.pending = Buffer.from(b.subarray(p));
    return out;
  }

  end(): void {
    if (this.pending.length) throw new PushRejected(`the push ends inside an OCSPResponse (${this.pending.length} bytes from byte ${this.consumed})`);
  }
}

/**
 * Publish port (8443, mTLS): POST /ocsp with concatenated DER responses. The body is read,
 * split and verified chunk by chunk as it arrives (never buffered whole, at most
 * {@link MAX_PUSH_BYTES}), so the public port on the same event loop keeps answering during a
 * push. Every response is checked by `trust` (signature, responder certificate, CA, the caller's
 * binding to that CA) before it is served; a push with any refused response gets 422 and names
 * the first ones (the verified ones are kept). `fanOut` (cluster mode) gets the accepted
 * responses and is awaited before the answer: the signer's push returns once every serving
 * process has them.
 */
export async function serveOcspPublish(
  cache: ResponseCache,
  o: MtlsServerOptions & {
    trust: OcspPushTrust;
    fanOut?: (body: Buffer) => Promise<void>;
    log?: (line: Record<string, unknown>) => void;
    /** @default MAX_PUSH_BYTES */
    maxPushBytes?: number;
  },
): Promise<Listening> {
  const max = o.maxPushBytes ?? MAX_PUSH_BYTES;
  const server = https.createServer({ key: o.key, cert: o.cert, ca: o.clientCa, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const caller = mtlsCaller(req, o.allowedClients);
    const json = (status: number, body: unknown) => {
      if (res.headersSent) return;
      const b = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { "content-type": "application/json", "content-length": b.length, ...(status >= 400 && status !== 422 ? { connection: "close" } : {}) });
      res.end(b);
    };
    const refuse = (status: number, error: string) => {
      o.log?.({ event: "ocsp.push.rejected", caller: caller ?? "unauthorized", status, error });
      json(status, { error });
      // keep reading (and discarding) what the client still sends, so it reads the answer
      // instead of a reset; a client that goes on past twice the limit is cut off
      let drained = 0;
      req.removeAllListeners("data");
      req.on("data", (c: Buffer) => {
        drained += c.length;
        if (drained > max) req.destroy();
      });
      req.resume();
    };
    if (!caller) return refuse(403, "forbidden");
    if (req.method !== "POST" || req.url !== "/ocsp") return refuse(404, "not found");
    const ct = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (ct !== "application/octet-stream" && ct !== "application/ocsp-response") return refuse(415, `content-type must be application/octet-stream (concatenated DER OCSPResponses), not "${ct}"`);
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > max) return refuse(413, `a push of ${declared} bytes is larger than the ${max} allowed`);
    const split = new ResponseSplitter();
    const now = Date.now();
    const accepted: Buffer[] = [];
    const problems: string[] = [];
    let size = 0;
    let index = 0;
    let rejected = 0;
    let stale = 0;
    let stopped = false;
    req.on("data", (chunk: Buffer) => {
      if (stopped) return;
      size += chunk.length;
      if (size > max) {
        stopped = true;
        return refuse(413, `the push is larger than the ${max} bytes allowed`);
      }
      let items: Buffer[];
      try {
        items = split.push(chunk);
      } catch (err) {
        stopped = true;
        return refuse(400, (err as Error).message);
      }
      for (const der of items) {
        try {
          const v = o.trust.verify(der, caller, now);
          if (cache.put(der, now, v)) accepted.push(der);
          else stale++;
        } catch (err) {
          rejected++;
          if (problems.length < 10) problems.push(`response ${index}: ${(err as Error).message}`);
        }
        index++;
      }
    });
    req.on("end", () => {
      if (stopped) return;
      try {
        split.end();
      } catch (err) {
        stopped = true;
        return refuse(400, (err as Error).message);
      }
      const body = Buffer.concat(accepted);
      void (async () => {
        cache.journalAppend(body);
        if (o.fanOut && accepted.length) await o.fanOut(body);
        const r = { instance: cache.instance, accepted: accepted.length, stale, rejected, size: cache.size };
        if (rejected) {
          o.log?.({ event: "ocsp.push.rejected", caller, status: 422, rejected, accepted: accepted.length, problems });
          return json(422, { error: `${rejected} of ${index} pushed responses refused`, problems, ...r });
        }
        json(200, r);
      })().catch((err: unknown) => json(500, { error: (err as Error).message }));
    });
    req.on("error", () => res.destroy());
  });
  return listen(server as unknown as http.Server, o.host, o.port);
}
