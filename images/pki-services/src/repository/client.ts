/**
 * The publishers' side of the publish port (8443, mTLS): the CRL publisher PUTs CRLs to the
 * repository, the OCSP signer POSTs responses to the public responder.
 */
import { createReadStream, statSync } from "node:fs";
import { lookup } from "node:dns/promises";
import https from "node:https";
import { isIP } from "node:net";

export interface MtlsClientIdentity {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** CA certificates that issue the publish endpoints' server certificates. */
  readonly ca: Buffer;
}

export function mtlsRequest(
  url: string,
  o: { method: string; body?: Buffer | { file: string }; contentType?: string; tls: MtlsClientIdentity; address?: string; servername?: string },
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (o.contentType) headers["content-type"] = o.contentType;
    if (o.body) headers["content-length"] = Buffer.isBuffer(o.body) ? o.body.length : statSync(o.body.file).size;
    // `address` connects to one given address of the host (one pod); the certificate is still
    // checked against `servername` (the host name).
    const pinned = (_h: string, opts: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
      opts?.all ? cb(null, [{ address: o.address!, family: isIP(o.address!) }]) : cb(null, o.address!, isIP(o.address!));
    const target = o.address ? { lookup: pinned as never, servername: o.servername } : {};
    const req = https.request(url, { method: o.method, key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, headers, agent: false, ...target }, (res) => {
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

/**
 * Pushes OCSP responses to every responder behind `baseUrl`: the host name is resolved to all
 * its addresses (a headless Service names every responder pod) and each gets the push, the TLS
 * certificate still checked against the host name. Returns the responders' instance ids joined:
 * when any responder is new or restarted (or was unreachable), the id changes and the signer
 * sends everything again. Fails only when no responder took the push.
 */
export async function pushOcspResponses(
  baseUrl: string,
  tls: MtlsClientIdentity,
  responses: Buffer[],
  resolve: (host: string) => Promise<string[]> = async (h) => (await lookup(h, { all: true })).map((a) => a.address),
): Promise<{ instance: string }> {
  const url = new URL(`${baseUrl.replace(/\/$/, "")}/ocsp`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : (await resolve(host)).sort();
  const body = Buffer.concat(responses);
  const results = await Promise.allSettled(
    addresses.map(async (address) => {
      const r = await mtlsRequest(url.toString(), { method: "POST", body, contentType: "application/octet-stream", tls, address, servername: isIP(host) ? undefined : host });
      if (r.status !== 200) throw new Error(`OCSP push to ${baseUrl} (${address}) failed: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
      return (JSON.parse(r.body.toString()) as { instance: string }).instance;
    }),
  );
  const ok = results.filter((r): r is PromiseFulfilledResult<string> => r.status === "fulfilled");
  if (ok.length === 0) throw (results[0] as PromiseRejectedResult | undefined)?.reason ?? new Error(`OCSP push: ${host} has no address`);
  return { instance: results.map((r, i) => (r.status === "fulfilled" ? r.value : `unreachable:${addresses[i]}`)).join(",") };
}

/** PUTs a file to the repository's publish port, e.g. `crl/issuing-ca-1.crl`. */
export async function publishFile(baseUrl: string, tls: MtlsClientIdentity, path: string, file: string): Promise<void> {
  const r = await mtlsRequest(`${baseUrl.replace(/\/$/, "")}/${path}`, { method: "PUT", body: { file }, contentType: "application/octet-stream", tls });
  if (r.status !== 200 && r.status !== 201) throw new Error(`publishing ${path} to ${baseUrl} failed: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
}
