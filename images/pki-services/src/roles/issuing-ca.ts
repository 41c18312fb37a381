/**
 * `pki-services issuing-ca --config=…`: start-up of the issuing CA role — configuration, PIN,
 * identity mode, database, the service (../issuing-ca/service.ts) behind its HTTP shell
 * (../issuing-ca/http.ts), background HSM probe and reconciliation sweep.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { readConfigFile } from "../config/load.js";
import { serveIssuingCa, type IdentityMode } from "../issuing-ca/http.js";
import { IssuingCa } from "../issuing-ca/service.js";
import { openDatabase } from "../storage/db.js";
import { readCertificate } from "./common.js";

export async function issuingCaMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" }, "ca-cert": { type: "string" }, db: { type: "string" }, listen: { type: "string", default: "0.0.0.0:8443" },
      "tls-key": { type: "string" }, "tls-cert": { type: "string" }, "client-ca": { type: "string" },
      "insecure-test-identity-header": { type: "boolean", default: false }, "pool-size": { type: "string" },
      "reconcile-grace-seconds": { type: "string", default: "120" },
    },
    strict: true,
  });
  if (!values.config) throw new Error("--config is required");
  const { config, source: configSource } = readConfigFile(values.config);
  const caCertPath = values["ca-cert"] ?? config.caCertificatePath;
  if (!caCertPath) throw new Error(`'caCertificatePath' is required by issuing-ca (in ${values.config} or --ca-cert)`);
  const pin = process.env[config.hsm.pinEnv];
  if (!pin) throw new Error(`the HSM PIN is read from the environment variable ${config.hsm.pinEnv}, which is not set`);
  delete process.env[config.hsm.pinEnv]; // not inherited by anything we spawn
  const [host, portText] = values.listen!.split(/:(?=\d+$)/);
  let identity: IdentityMode;
  if (values["insecure-test-identity-header"]) identity = { kind: "insecure-test-header" };
  else {
    if (!values["tls-key"] || !values["tls-cert"] || !values["client-ca"]) throw new Error("mTLS needs --tls-key, --tls-cert and --client-ca");
    identity = { kind: "mtls", key: readFileSync(values["tls-key"]), cert: readFileSync(values["tls-cert"]), clientCa: readFileSync(values["client-ca"]) };
  }
  const db = await openDatabase({ url: values.db ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/db" });
  const ca = await IssuingCa.start({ config, db, pin, caCertificate: readCertificate(caCertPath), poolSize: values["pool-size"] ? Number(values["pool-size"]) : undefined, reconcileGraceSeconds: Number(values["reconcile-grace-seconds"]), configSource });
  const srv = await serveIssuingCa(ca, { host, port: Number(portText), identity });
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
