/**
 * The issuing CA's HTTP shell: HTTP + JSON over the service (./service.ts). Production: mTLS,
 * the caller is the subject CN of its verified client certificate. Tests: plain HTTP on
 * loopback, the caller named by a header, only in an explicit test-only mode that refuses a
 * non-loopback address.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { HsmUnavailableError } from "../pkcs11/index.js";
import { toPem } from "../pki/index.js";
import { isConnectionError } from "../storage/db.js";
import { ApiError, isoSeconds, type IssuingCa, type VettedSubject } from "./service.js";

/** Largest request body accepted (a CSR with a 4096-bit key is under 2 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

export type IdentityMode =
  | { readonly kind: "mtls"; readonly key: Buffer; readonly cert: Buffer; readonly clientCa: Buffer }
  /** TEST ONLY: plain HTTP on loopback, the caller named by the `x-test-client-identity` header. */
  | { readonly kind: "insecure-test-header" };

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly identity: IdentityMode;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json), "cache-control": "no-store" });
  res.end(json);
}

/** Reads the body up to MAX_BODY_BYTES. Beyond (declared or, chunked, as it arrives) a 413:
 *  what the client still sends is read and discarded (up to 1 MiB more, then the connection is
 *  cut), so it gets the answer instead of a reset. */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (message: string) => {
      reject(new ApiError(413, "too_large", [message]));
      let drained = 0;
      req.removeAllListeners("data");
      req.on("data", (c: Buffer) => {
        drained += c.length;
        if (drained > 1 << 20) req.destroy();
      });
      req.resume();
    };
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) return tooLarge(`request body of ${declared} bytes exceeds the limit of ${MAX_BODY_BYTES} bytes`);
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY_BYTES) return tooLarge(`request body exceeds the limit of ${MAX_BODY_BYTES} bytes`);
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The API speaks JSON only: anything else is 415 before the body is read. */
function requireJson(req: http.IncomingMessage): void {
  const ct = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (ct !== "application/json") throw new ApiError(415, "unsupported_media_type", [`Content-Type must be application/json, not ${ct ? `"${ct}"` : "absent"}`]);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
function isVettedSubject(v: unknown): v is VettedSubject {
  if (!v || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return (
    Object.keys(o).every((k) => ["attributes", "dns", "email"].includes(k)) &&
    isStrings(o.dns) &&
    isStrings(o.email) &&
    Array.isArray(o.attributes) &&
    o.attributes.every((a) => a && typeof a === "object" && typeof (a as Record<string, unknown>).type === "string" && typeof (a as Record<string, unknown>).value === "string" && Object.keys(a).length === 2)
  );
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString("utf8")) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new ApiError(400, "bad_json", ["request body must be a JSON object"]);
}

export async function serveIssuingCa(ca: IssuingCa, o: ServeOptions): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const identityOf = (req: http.IncomingMessage): string | undefined => {
    if (o.identity.kind === "mtls") {
      const sock = req.socket as TLSSocket;
      if (!sock.authorized) return undefined;
      const cn = sock.getPeerCertificate()?.subject?.CN;
      return Array.isArray(cn) ? undefined : cn;
    }
    const h = req.headers["x-test-client-identity"];
    return typeof h === "string" ? h : undefined;
  };

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? "/", "http://x");
    const actor = identityOf(req);
    try {
      if (req.method === "GET" && url.pathname === "/healthz") {
        const h = await ca.health();
        return send(res, h.ok ? 200 : 503, h);
      }
      if (!actor) throw new ApiError(401, "unauthenticated", ["a client certificate is required"]);
      let m: RegExpExecArray | null;
      if (req.method === "POST" && url.pathname === "/v1/certificates") {
        // Deny by default: a caller other than the RA is refused before its body is read.
        ca.authorize(actor, "issue");
        const idemHeader = req.headers["idempotency-key"];
        const idempotencyKey = typeof idemHeader === "string" ? idemHeader : undefined;
        let body: Record<string, unknown>;
        try {
          requireJson(req);
          body = parseJson(await readBody(req));
          if (typeof body.profile !== "string" || typeof body.csr !== "string") throw new ApiError(400, "bad_request", [`"profile" and "csr" (PEM) are required strings`]);
          if (body.validityDays !== undefined && typeof body.validityDays !== "number") throw new ApiError(400, "bad_request", [`"validityDays" must be a number`]);
          const extra = Object.keys(body).filter((k) => !["profile", "csr", "validityDays", "subject"].includes(k));
          if (extra.length) throw new ApiError(400, "bad_request", [`unknown field(s): ${extra.join(", ")}`]);
          if (body.subject !== undefined && !isVettedSubject(body.subject)) {
            throw new ApiError(400, "bad_request", [`"subject" must be {attributes: [{type, value}], dns: [string], email: [string]}`]);
          }
          if (idempotencyKey !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(idempotencyKey)) {
            throw new ApiError(400, "bad_request", ["the Idempotency-Key header must be 1-128 characters of A-Z a-z 0-9 . _ : -"]);
          }
        } catch (err) {
          if (err instanceof ApiError) {
            await ca.audit.append("cert.request.rejected", actor, { ca: ca.config.name, requestId, status: err.status, code: err.code, problems: err.problems });
          }
          throw err;
        }
        const r = await ca.issue(
          { profile: body.profile as string, csr: body.csr as string, validityDays: body.validityDays as number | undefined, subject: body.subject as VettedSubject | undefined, idempotencyKey },
          actor,
          requestId,
        );
        return send(res, r.replayed ? 200 : 201, r);
      }
      if (req.method === "POST" && (m = /^\/v1\/certificates\/([^/]+)\/revoke$/.exec(url.pathname))) {
        ca.authorize(actor, "revoke");
        let body: Record<string, unknown>;
        try {
          requireJson(req);
          body = parseJson(await readBody(req));
          const extra = Object.keys(body).filter((k) => !["reason", "invalidityDate"].includes(k));
          if (extra.length) throw new ApiError(400, "bad_request", [`unknown field(s): ${extra.join(", ")} (known: reason, invalidityDate)`]);
        } catch (err) {
          if (err instanceof ApiError) {
            await ca.audit.append("cert.revoke.rejected", actor, { ca: ca.config.name, serial: m[1], requestId, status: err.status, code: err.code, problems: err.problems });
          }
          throw err;
        }
        const r = await ca.revoke(m[1], String(body.reason ?? ""), actor, body.invalidityDate);
        return send(res, 200, { serial: m[1], status: "revoked", reason: body.reason, ...r });
      }
      if (req.method === "GET" && (m = /^\/v1\/certificates\/([0-9a-f]{2,40})$/.exec(url.pathname))) {
        const rec = await ca.store.get(m[1]);
        if (!rec || rec.status === "intent" || rec.status === "failed") throw new ApiError(404, "not_found", [`no certificate with serial ${m[1]}`]);
        return send(res, 200, {
          serial: rec.serial,
          status: rec.status,
          profile: rec.profile,
          subject: rec.subject,
          notBefore: rec.notBefore,
          notAfter: rec.notAfter,
          certificate: rec.der ? toPem(rec.der) : null,
          revokedAt: rec.revokedAt,
          revocationReason: rec.revocationReason,
          invalidityDate: rec.invalidityDate ? isoSeconds(rec.invalidityDate) : null,
          reconciled: rec.reconciled,
        });
      }
      throw new ApiError(404, "not_found", [`no route ${req.method} ${url.pathname}`]);
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.status === 403) await ca.audit.append("access.denied", actor ?? "anonymous", { path: url.pathname, problems: err.problems }).catch(() => undefined);
        if (err.status === 413) res.setHeader("connection", "close");
        return send(res, err.status, { error: err.code, messages: err.problems, requestId });
      }
      if (err instanceof HsmUnavailableError) return send(res, 503, { error: "hsm_unavailable", messages: [err.message], requestId });
      // The database away (a failover, a restart): 503 and retry, as for the HSM; the pool
      // replaces the broken connections by itself.
      if (isConnectionError(err)) {
        console.error(JSON.stringify({ event: "db.unavailable", requestId, error: (err as Error).message }));
        return send(res, 503, { error: "database_unavailable", messages: ["the CA database is unavailable; retry later"], requestId });
      }
      console.error(`[${requestId}]`, err);
      return send(res, 500, { error: "internal", messages: ["internal error"], requestId });
    }
  };

  let server: http.Server;
  if (o.identity.kind === "mtls") {
    server = https.createServer({ key: o.identity.key, cert: o.identity.cert, ca: o.identity.clientCa, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2" }, (req, res) => void handler(req, res));
  } else {
    if (!["127.0.0.1", "::1", "localhost"].includes(o.host)) {
      throw new Error(`the insecure test identity mode listens on loopback only, not on ${o.host}`);
    }
    server = http.createServer((req, res) => void handler(req, res));
  }
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "EADDRINUSE" ? "the address is already in use" : err.code === "EACCES" ? "permission denied" : err.code === "EADDRNOTAVAIL" ? "no such local address" : err.message;
      reject(new Error(`cannot listen on ${o.host}:${o.port}: ${why}${err.code ? ` (${err.code})` : ""}`));
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
