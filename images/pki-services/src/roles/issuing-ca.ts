/**
 * `pki-services issuing-ca --config=…`: start-up of the issuing CA role — configuration, PIN,
 * identity mode, database, the service (../issuing-ca/service.ts) behind its HTTP shell
 * (../issuing-ca/http.ts), background HSM probe and reconciliation sweep.
 */
import { parseArgs } from "node:util";
import { readConfigFile } from "../config/load.js";
import { serveIssuingCa, type IdentityMode } from "../issuing-ca/http.js";
import { IssuingCa } from "../issuing-ca/service.js";
import { openDatabase } from "../storage/db.js";
import { hostPort, positiveInt, readCertificate, readNamedFile, readPin, seconds, tlsPair } from "./common.js";

export async function issuingCaMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      "ca-cert": { type: "string" },
      db: { type: "string" },
      listen: { type: "string", default: "0.0.0.0:8443" },
      "tls-key": { type: "string" },
      "tls-cert": { type: "string" },
      "client-ca": { type: "string" },
      "insecure-test-identity-header": { type: "boolean", default: false },
      "pool-size": { type: "string" },
      "reconcile-grace-seconds": { type: "string", default: "120" },
    },
    strict: true,
  });
  if (!values.config) throw new Error("--config is required");
  // every flag is checked before anything is opened: a typo is named, not a stack trace
  const { host, port } = hostPort(values.listen!);
  const reconcileGraceSeconds = seconds("--reconcile-grace-seconds", values["reconcile-grace-seconds"]);
  const poolSize = values["pool-size"] !== undefined ? positiveInt("--pool-size", values["pool-size"]) : undefined;
  const { config, source: configSource } = readConfigFile(values.config);
  const caCertPath = values["ca-cert"] ?? config.caCertificatePath;
  if (!caCertPath) throw new Error(`'caCertificatePath' is required by issuing-ca (in ${values.config} or --ca-cert)`);
  const caCertificate = readCertificate(caCertPath, values["ca-cert"] ? "--ca-cert" : `CA certificate (caCertificatePath in ${values.config})`);
  let identity: IdentityMode;
  if (values["insecure-test-identity-header"]) identity = { kind: "insecure-test-header" };
  else {
    if (!values["tls-key"] || !values["tls-cert"] || !values["client-ca"]) throw new Error("mTLS needs --tls-key, --tls-cert and --client-ca");
    identity = { kind: "mtls", ...tlsPair(values["tls-key"], values["tls-cert"]), clientCa: readNamedFile(values["client-ca"], "--client-ca") };
  }
  const pin = readPin(config.hsm);
  const db = await openDatabase({ url: values.db ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/db" });
  let ca: IssuingCa;
  try {
    ca = await IssuingCa.start({ config, db, pin, caCertificate, poolSize, reconcileGraceSeconds, configSource });
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  let srv: Awaited<ReturnType<typeof serveIssuingCa>>;
  try {
    srv = await serveIssuingCa(ca, { host, port, identity });
  } catch (err) {
    // audited as a failed start, not left as a start without a stop
    await ca.abortStart((err as Error).message);
    await db.close().catch(() => undefined);
    throw err;
  }
  console.log(JSON.stringify({ event: "listening", role: "issuing-ca", host, port: srv.port, reconciled: ca.reconciledAtStart.length }));
  // The HSM health is probed in the background so the service notices (and recovers) by itself.
  const probe = setInterval(() => void ca.health().catch(() => undefined), 5000);
  probe.unref();
  // Intents orphaned by a crashed replica are reconciled without waiting for a restart.
  const sweep = setInterval(() => void ca.store.reconcile("system", ca.reconcileGraceSeconds).catch(() => undefined), 60_000);
  sweep.unref();
  const stop = async () => {
    clearInterval(probe);
    clearInterval(sweep);
    await srv.close();
    await ca.stop();
    await db.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
  return -1; // keep running
}
