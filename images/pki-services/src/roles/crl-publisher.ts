/**
 * `pki-services crl-publisher --config=… [--once]`: the CronJob (`--once`, the scheduled floor,
 * every crl.intervalHours) and the long-running watcher (no `--once`: a CRL within ≤ 30 s of any
 * revocation, docs/adr/0050). Signs with the CA key (hsm.keyLabel); DATABASE_URL for the store.
 */
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { hsmDigestSigner } from "../crl/digest-signer.js";
import { CrlPublisher } from "../crl/publisher.js";
import { publishFile } from "../repository/client.js";
import { openDatabase } from "../storage/db.js";
import { loadConfig } from "../config/load.js";
import { clientTls, log, onStop, openSigner, readCertificate, seconds } from "./common.js";

export async function crlPublisherMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      "ca-cert": { type: "string" },
      db: { type: "string" },
      once: { type: "boolean", default: false },
      out: { type: "string", default: "/var/lib/pki-services/crl" },
      "poll-seconds": { type: "string", default: "15" },
    },
    strict: true,
  });
  if (!values.config) throw new Error("--config is required");
  const pollSeconds = seconds("--poll-seconds", values["poll-seconds"], 0.001);
  const config = loadConfig(values.config);
  const caCertPath = values["ca-cert"] ?? config.caCertificatePath;
  if (!caCertPath) throw new Error(`'caCertificatePath' is required by crl-publisher (in ${values.config} or --ca-cert)`);
  mkdirSync(values.out!, { recursive: true });
  const db = await openDatabase({ url: values.db ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/db" });
  const { token, signer } = await openSigner(config.hsm, config.keyAlgorithm, 2);
  const repo = config.publish?.repositoryUrl;
  const tls = repo ? clientTls(config.publish!.clientTlsDir) : undefined;
  const publisher = new CrlPublisher({
    config,
    db,
    signer: hsmDigestSigner(signer),
    caCertificate: readCertificate(caCertPath),
    outDir: values.out!,
    publish: repo ? (file, name) => publishFile(repo, tls!, `crl/${name}`, file) : undefined,
  });
  const close = async () => {
    token.close();
    await db.close();
  };
  if (values.once) {
    try {
      const p = await publisher.publishOnce();
      log({ event: "crl.published", ca: config.name, crlNumber: p.crlNumber.toString(), entries: p.entries, size: p.size, nextUpdate: p.nextUpdate.toISOString(), pushed: Boolean(repo) });
      return 0;
    } finally {
      await close();
    }
  }
  const ac = new AbortController();
  onStop(async () => ac.abort());
  log({ event: "crl.watch", ca: config.name, pollSeconds });
  await publisher.watch({
    pollSeconds,
    signal: ac.signal,
    onPublished: (p) => log({ event: "crl.published", ca: config.name, crlNumber: p.crlNumber.toString(), entries: p.entries, size: p.size }),
    onError: (e) => log({ event: "crl.publish.failed", ca: config.name, error: e instanceof Error ? e.message : String(e) }),
  });
  await close();
  return 0;
}
