/**
 * The RA frontend (government network): holds no database and no CA access (style 7, Boulder's
 * WFE). It terminates the users' TLS — operators present their operator-client certificate,
 * applicants none — and forwards the JSON API to the RA backend over mTLS with its own client
 * certificate, passing the operator's verified certificate in the RFC 9440 Client-Cert header
 * (a Client-Cert header sent by the user is dropped). The RA pages register on this instance.
 * ADR 0060.
 */
import https from "node:https";
import type { TLSSocket } from "node:tls";
import Fastify, { type FastifyInstance } from "fastify";
import { clientCertHeader } from "./auth.js";

export interface RaFrontendOptions {
  /** Server identity and ca.crt: the CA of operator client certificates. */
  readonly tls: { readonly key: Buffer; readonly cert: Buffer; readonly ca: Buffer };
  /** e.g. https://ra.lanic-ra.svc:8443 */
  readonly backendUrl: string;
  /** The frontend's client identity towards the backend, and ca.crt: the backend's server CA. */
  readonly backendTls: { readonly key: Buffer; readonly cert: Buffer; readonly ca: Buffer };
  /** Rows allowed in one bulk upload (shown by the pages; the backend enforces its own). */
  readonly bulkMaxRows: number;
  /** Largest request body forwarded. @default 10 MiB + 64 KiB */
  readonly bodyLimit?: number;
  /** `operator` (government network): client certificates requested, a verified one forwarded.
   *  `applicant` (LANIC's edge, ADR 0068): none requested, none forwarded — nothing reachable
   *  from the internet can act as an operator. @default "operator" */
  readonly exposure?: "applicant" | "operator";
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "client-cert", "content-length"]);

export async function buildRaFrontend(o: RaFrontendOptions): Promise<FastifyInstance> {
  const bodyLimit = o.bodyLimit ?? 10 * 1024 * 1024 + 64 * 1024;
  const operator = (o.exposure ?? "operator") === "operator";
  const app = Fastify({
    // Operators present a client certificate (verified when given, required by the console's
    // pages and the backend); the applicant exposure never asks for one.
    https: { key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, requestCert: operator, rejectUnauthorized: false, minVersion: "TLSv1.2" },
    bodyLimit,
    requestTimeout: 120_000,
  });
  const agent = new https.Agent({ key: o.backendTls.key, cert: o.backendTls.cert, ca: o.backendTls.ca, keepAlive: true, maxSockets: 64 });
  app.addHook("onClose", async () => agent.destroy());
  app.decorate("raBulkMaxRows", o.bulkMaxRows);
  // The API body is forwarded as bytes, whatever its type (the backend validates it).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_req, body, done) => done(null, body));

  const forward = async (req: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
    const sock = req.raw.socket as TLSSocket;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const peer = operator && sock.authorized ? sock.getPeerCertificate(false) : undefined;
    if (peer?.raw) headers["client-cert"] = clientCertHeader(peer.raw);
    const body = req.body as Buffer | undefined;
    if (body) headers["content-length"] = String(body.length);
    const url = new URL(req.url, o.backendUrl);
    return new Promise<void>((resolve, reject) => {
      const up = https.request(url, { method: req.method, headers, agent, timeout: 120_000 }, (res) => {
        const h: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) h[k] = v;
        reply
          .code(res.statusCode ?? 502)
          .headers(h)
          .send(res);
        res.on("end", resolve);
        res.on("error", reject);
      });
      up.on("timeout", () => up.destroy(new Error("RA backend timeout")));
      up.on("error", (err) => {
        if (!reply.sent) reply.code(502).send({ error: "backend_unavailable", messages: [`the RA backend cannot be reached: ${err.message}`] });
        resolve();
      });
      up.end(body);
    });
  };
  app.all("/api/*", forward);
  app.get("/openapi.json", forward);
  app.get("/healthz", async () => ({ ok: true, role: "ra-frontend" }));
  return app;
}
