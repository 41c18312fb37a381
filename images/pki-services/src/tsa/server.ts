/**
 * The TSA's HTTP shell (RFC 3161 3.4): POST application/timestamp-query → application/timestamp-
 * reply; GET /health says whether the TSA may stamp (clock and HSM). Plain HTTP like OCSP: the
 * token is signed, and relying parties reach it from the government network and LANIC's edge.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ClockStatus } from "./clock.js";
import { MAX_REQUEST_BYTES, rejectionResponse } from "./protocol.js";
import type { TimeStampAuthority } from "./service.js";

export interface TsaServerOptions {
  readonly host: string;
  readonly port: number;
  readonly health: () => Promise<{ ok: boolean; clock: ClockStatus; hsm: { ok: boolean; reason?: string } }>;
  readonly log?: (line: Record<string, unknown>) => void;
}

export interface RunningTsaServer {
  readonly port: number;
  close(): Promise<void>;
}

const REPLY = "application/timestamp-reply";

/** Reads the body up to `limit` bytes; past it, stops reading and reports 413 (also chunked). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) return resolve("too-large");
    const parts: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve("too-large");
      } else parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

export function serveTsa(tsa: TimeStampAuthority, o: TsaServerOptions): Promise<RunningTsaServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: Buffer | string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...headers });
      res.end(body);
    };
    const url = req.url ?? "/";
    if (req.method === "GET" && (url === "/health" || url === "/healthz")) {
      o.health().then(
        (h) => send(h.ok ? 200 : 503, "application/json", JSON.stringify(h)),
        (err: Error) => send(503, "application/json", JSON.stringify({ ok: false, reason: err.message })),
      );
      return;
    }
    if (req.method !== "POST") return send(405, "text/plain; charset=utf-8", "POST an application/timestamp-query (RFC 3161 3.4)\n", { allow: "POST" });
    const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/timestamp-query") return send(415, "text/plain; charset=utf-8", `content-type must be application/timestamp-query (got '${type || "none"}')\n`);
    readBody(req, MAX_REQUEST_BYTES).then(
      async (body) => {
        if (body === "too-large") {
          res.setHeader("connection", "close");
          return send(413, REPLY, rejectionResponse("badDataFormat", `request larger than ${MAX_REQUEST_BYTES} bytes`));
        }
        try {
          const r = await tsa.stamp(body, req.socket.remoteAddress ?? "unknown");
          send(200, REPLY, r.body);
        } catch (err) {
          // HSM or database down: the client may retry later (RFC 3161 2.4.2 systemFailure).
          o.log?.({ event: "tsa.error", error: (err as Error).message });
          send(503, REPLY, rejectionResponse("systemFailure", "the TSA cannot sign or record a token now; retry later"), { "retry-after": "5" });
        }
      },
      () => send(400, "text/plain; charset=utf-8", "request body could not be read\n"),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new Error(`cannot listen on ${o.host}:${o.port}: the address is already in use`) : err));
    server.listen(o.port, o.host, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    );
  });
}
