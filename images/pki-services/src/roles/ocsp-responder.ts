/**
 * `pki-services ocsp-responder --sign-only --config=…`: the OCSP signer in the issuing zone (HSM +
 * database), pushes pre-signed responses to the responder's publish port (8443, mTLS).
 * `pki-services ocsp-responder --serve`: the public responder (HTTP 8080) with its publish port;
 * no HSM, no database. Without either flag (lab, tests) one process does both, pushing in memory.
 * `--serve --workers N` (N ≥ 2): N processes answer on the HTTP port, one primary owns the
 * publish port and the cache file and sends every push to all of them (src/ocsp/cluster.ts,
 * docs/adr/0052). Default 1: one process, as before.
 */
import { parseArgs } from "node:util";
import { hsmDigestSigner } from "../crl/digest-signer.js";
import { OcspSigner } from "../ocsp/signer.js";
import { isServingWorker, runServingWorker, startServingCluster } from "../ocsp/cluster.js";
import { OcspPushTrust } from "../ocsp/push-trust.js";
import { ResponseCache, serveOcsp, serveOcspPublish } from "../ocsp/server.js";
import { pushOcspResponses } from "../repository/client.js";
import { openDatabase } from "../storage/db.js";
import { loadConfig } from "../config/load.js";
import { clientTls, hostPort, log, onStop, openSigner, readCertificate, seconds, serverTls } from "./common.js";

/** `--signer CN=ca-1+ca-2` (repeatable): which CAs a signer's client CN may push for; without
 *  any, `ocsp-signer-<ca>` signs for `<ca>` only (the IaC names the signers so). */
export function signerBindings(flags: readonly string[] | undefined): Map<string, string[]> | undefined {
  if (!flags?.length) return undefined;
  const m = new Map<string, string[]>();
  for (const f of flags) {
    const x = /^([^=]+)=([a-z0-9-]+(?:\+[a-z0-9-]+)*)$/.exec(f);
    if (!x) throw new Error(`--signer '${f}' is not CN=ca-name[+ca-name...]`);
    m.set(x[1], x[2].split("+"));
  }
  return m;
}

export async function ocspResponderMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "sign-only": { type: "boolean", default: false },
      serve: { type: "boolean", default: false },
      config: { type: "string" },
      "ca-cert": { type: "string" },
      db: { type: "string" },
      "poll-seconds": { type: "string", default: "10" },
      listen: { type: "string", default: "0.0.0.0:8080" },
      "publish-listen": { type: "string", default: "0.0.0.0:8443" },
      "tls-key": { type: "string" },
      "tls-cert": { type: "string" },
      "client-ca": { type: "string" },
      "allowed-clients": { type: "string" },
      "cache-file": { type: "string" },
      "publish-tls-dir": { type: "string", default: "/etc/lanic-ca/publish-tls" },
      workers: { type: "string", default: "1" },
      "trust-dir": { type: "string", default: "/etc/lanic-ca/ca-certs" },
      signer: { type: "string", multiple: true },
    },
    strict: true,
  });
  if (values["sign-only"] && values.serve) throw new Error("--sign-only and --serve are exclusive (omit both to run both in one process)");
  const sign = !values.serve;
  const serve = !values["sign-only"];
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers must be an integer from 1 to 64 (got '${values.workers}')`);
  if (workers > 1 && !values.serve) throw new Error("--workers applies to --serve only");
  if (isServingWorker()) {
    // a serving process of `--serve --workers N`: the primary gives it everything it answers from
    const s = await runServingWorker(hostPort(values.listen!));
    onStop(s.close);
    return -1;
  }
  const cache = new ResponseCache();
  const stops: (() => Promise<void>)[] = [];
  if (serve) {
    if (values["cache-file"]) log({ event: "ocsp.cache.loaded", ...cache.persistTo(values["cache-file"]) });
    const l = hostPort(values.listen!);
    const s = workers > 1 ? await startServingCluster({ workers, ...l, cache, log }) : await serveOcsp(cache, l);
    stops.push(s.close);
    log({ event: "listening", role: "ocsp-responder", mode: "serve", port: s.port, workers });
    if (values.serve) {
      const tls = serverTls(values, "ocsp-signer-*");
      if (!tls) log({ event: "publish.disabled", role: "ocsp-responder", reason: `no TLS material (--tls-key/--tls-cert/--client-ca or ${values["publish-tls-dir"]}/{tls.key,tls.crt,ca.crt})` });
      else {
        const fanOut = "fanOut" in s ? s.fanOut : undefined;
        // Every pushed response is verified against the CA certificates of --trust-dir, and
        // each signer is bound to its CAs (RFC 6960 4.2.2.2): fail closed without them.
        const trust = OcspPushTrust.fromDir(values["trust-dir"]!, signerBindings(values.signer));
        const p = await serveOcspPublish(cache, { ...hostPort(values["publish-listen"]!), ...tls, fanOut, trust, log });
        stops.push(p.close);
        log({ event: "listening", role: "ocsp-responder", mode: "publish", port: p.port, allowedClients: tls.allowedClients, cas: trust.caNames });
      }
    }
  }
  if (sign) {
    if (!values.config) throw new Error("--config is required to sign");
    const config = loadConfig(values.config);
    const caCertPath = values["ca-cert"] ?? config.caCertificatePath;
    const responder = config.ocsp.responder;
    if (!caCertPath || !responder) {
      throw new Error(`the OCSP signer needs 'caCertificatePath' and 'ocsp.responder' (hsm, certificatePath) in ${values.config}`);
    }
    const db = await openDatabase({ url: values.db ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/db" });
    const { token, signer } = await openSigner(responder.hsm, responder.keyAlgorithm ?? config.keyAlgorithm, 8);
    const url = config.publish?.ocspResponderUrl;
    if (values["sign-only"] && !url) throw new Error(`--sign-only needs 'publish.ocspResponderUrl' in ${values.config}`);
    const tls = url ? clientTls(config.publish!.clientTlsDir) : undefined;
    const s = new OcspSigner({
      config,
      db,
      signer: hsmDigestSigner(signer),
      responderCertificate: readCertificate(responder.certificatePath),
      caCertificate: readCertificate(caCertPath),
      push: url
        ? (r) => pushOcspResponses(url, tls!, r)
        : async (r) => {
            for (const d of r) cache.put(d);
            return { instance: cache.instance };
          },
    });
    await s.checkResponderCertificate();
    const ac = new AbortController();
    const running = s.run({
      pollSeconds: seconds("--poll-seconds", values["poll-seconds"], 0.001),
      signal: ac.signal,
      onPass: (r) => {
        if (r.signed) log({ event: "ocsp.signed", ca: config.name, ...r });
      },
      onError: (e) => log({ event: "ocsp.sign.failed", ca: config.name, error: e instanceof Error ? e.message : String(e) }),
    });
    stops.push(async () => {
      ac.abort();
      await running;
      token.close();
      await db.close();
    });
    log({ event: "started", role: "ocsp-responder", mode: "sign", ca: config.name, push: url ?? "in-process" });
  }
  onStop(async () => {
    for (const s of stops) await s();
  });
  return -1;
}
