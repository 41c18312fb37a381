/**
 * `pki-services repository --base-url=https://repo.ca.gov.la [--root DIR]`: the public side
 * (HTTP 8080) and the publish port (8443, mTLS).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { RepositoryStore, serveRepository, serveRepositoryPublish } from "../repository/server.js";
import { hostPort, log, onStop } from "./common.js";

export async function repositoryMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "base-url": { type: "string" }, root: { type: "string", default: "/var/lib/pki-services/repository" },
      listen: { type: "string", default: "0.0.0.0:8080" }, "publish-listen": { type: "string", default: "0.0.0.0:8443" },
      "tls-key": { type: "string" }, "tls-cert": { type: "string" }, "client-ca": { type: "string" }, "allowed-clients": { type: "string" },
      "no-publish": { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!values["base-url"]) throw new Error("--base-url is required (the public URL the AIA and CDP point at)");
  const base = new URL(values["base-url"]);
  const store = new RepositoryStore(values.root!);
  const loaded = await store.load();
  const pub = await serveRepository(store, hostPort(values.listen!));
  const stops = [pub.close];
  if (!values["no-publish"]) {
    if (!values["tls-key"] || !values["tls-cert"] || !values["client-ca"] || !values["allowed-clients"]) {
      throw new Error("the publish port needs --tls-key, --tls-cert, --client-ca and --allowed-clients (or --no-publish)");
    }
    const p = await serveRepositoryPublish(store, {
      ...hostPort(values["publish-listen"]!), key: readFileSync(values["tls-key"]), cert: readFileSync(values["tls-cert"]),
      clientCa: readFileSync(values["client-ca"]), allowedClients: values["allowed-clients"].split(","),
    }, log);
    stops.push(p.close);
  }
  log({ event: "listening", role: "repository", baseUrl: base.href, port: pub.port, files: loaded });
  onStop(async () => { for (const s of stops) await s(); });
  return -1;
}
