/**
 * `pki-services repository --base-url=https://repo.ca.gov.la [--root DIR]`: the public side
 * (HTTP 8080) and the publish port (8443, mTLS).
 */
import { parseArgs } from "node:util";
import { RepositoryStore, serveRepository, serveRepositoryPublish } from "../repository/server.js";
import { hostPort, log, onStop, serverTls } from "./common.js";

export async function repositoryMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "base-url": { type: "string" },
      root: { type: "string", default: "/var/lib/pki-services/repository" },
      listen: { type: "string", default: "0.0.0.0:8080" },
      "publish-listen": { type: "string", default: "0.0.0.0:8443" },
      "tls-key": { type: "string" },
      "tls-cert": { type: "string" },
      "client-ca": { type: "string" },
      "allowed-clients": { type: "string" },
      "no-publish": { type: "boolean", default: false },
      "publish-tls-dir": { type: "string", default: "/etc/lanic-ca/publish-tls" },
    },
    strict: true,
  });
  if (!values["base-url"]) throw new Error("--base-url is required (the public URL the AIA and CDP point at)");
  let base: URL;
  try {
    base = new URL(values["base-url"]);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    throw new Error(`--base-url '${values["base-url"]}' is not an http:// or https:// URL (the public URL the AIA and CDP point at, e.g. http://repository.ca.gov.la)`);
  }
  const store = new RepositoryStore(values.root!);
  const loaded = await store.load();
  const pub = await serveRepository(store, hostPort(values.listen!));
  const stops = [pub.close];
  if (!values["no-publish"]) {
    const tls = serverTls(values, "crl-publisher-*,repository-operator");
    if (!tls) log({ event: "publish.disabled", role: "repository", reason: `no TLS material (--tls-key/--tls-cert/--client-ca or ${values["publish-tls-dir"]}/{tls.key,tls.crt,ca.crt})` });
    else {
      const p = await serveRepositoryPublish(store, { ...hostPort(values["publish-listen"]!), ...tls }, log);
      stops.push(p.close);
    }
  }
  log({ event: "listening", role: "repository", baseUrl: base.href, port: pub.port, files: loaded });
  onStop(async () => {
    for (const s of stops) await s();
  });
  return -1;
}
