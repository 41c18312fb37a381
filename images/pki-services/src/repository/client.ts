/**
 * The publishers' side of the publish port (8443, mTLS): the CRL publisher PUTs CRLs to the
 * repository, the OCSP signer POSTs responses to the public responder.
 */
import { createReadStream, statSync } from "node:fs";
import https from "node:https";

export interface MtlsClientIdentity {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** CA certificates that issue the publish endpoints' server certificates. */
  readonly ca: Buffer;
}

export function mtlsRequest(url: string, o: { method: string; body?: Buffer | { file: string }; contentType?: string; tls: MtlsClientIdentity }): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (o.contentType) headers["content-type"] = o.contentType;
    if (o.body) headers["content-length"] = Buffer.isBuffer(o.body) ? o.body.length : statSync(o.body.file).size;
    const req = https.request(url, { method: o.method, key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (!o.body) req.end();
    else if (Buffer.isBuffer(o.body)) req.end(o.body);
    else createReadStream(o.body.file).on("error", reject).pipe(req);
  });
}

/** Pushes OCSP responses; returns the responder's instance id. */
export async function pushOcspResponses(baseUrl: string, tls: MtlsClientIdentity, responses: Buffer[]): Promise<{ instance: string }> {
  const r = await mtlsRequest(`${baseUrl.replace(/\/$/, "")}/ocsp`, { method: "POST", body: Buffer.concat(responses), contentType: "application/octet-stream", tls });
  if (r.status !== 200) throw new Error(`OCSP push to ${baseUrl} failed: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
  return JSON.parse(r.body.toString()) as { instance: string };
}

/** PUTs a file to the repository's publish port, e.g. `crl/issuing-ca-1.crl`. */
export async function publishFile(baseUrl: string, tls: MtlsClientIdentity, path: string, file: string): Promise<void> {
  const r = await mtlsRequest(`${baseUrl.replace(/\/$/, "")}/${path}`, { method: "PUT", body: { file }, contentType: "application/octet-stream", tls });
  if (r.status !== 200 && r.status !== 201) throw new Error(`publishing ${path} to ${baseUrl} failed: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
}
