/**
 * The ra role: `pki-services ra --backend` (RA zone: the store, the only caller of the issuing
 * CA) or `pki-services ra --frontend` (government network: no database, no CA access). ADR 0060.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AuditLog } from "../audit/log.js";
import { CaClient } from "../ra/ca-client.js";
import { readRaConfig } from "../ra/config.js";
import { buildRaFrontend } from "../ra/frontend.js";
import { buildRaBackend } from "../ra/http.js";
import { registerRaPages } from "../ra/web/pages.js";
import { RA_MIGRATIONS } from "../ra/migrations.js";
import { RaService } from "../ra/service.js";
import { purgeExpiredEvidence } from "../ra/evidence.js";
import { openDatabase } from "../storage/db.js";
import { auditFailedStart, hostPort, listenError, log, onStop } from "./common.js";

const tlsDir = (dir: string) => ({ key: readFileSync(join(dir, "tls.key")), cert: readFileSync(join(dir, "tls.crt")), ca: readFileSync(join(dir, "ca.crt")) });

export async function raMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      backend: { type: "boolean", default: false },
      frontend: { type: "boolean", default: false },
      config: { type: "string", default: "/etc/lanic-ca/ra-config.json" },
      db: { type: "string" },
      listen: { type: "string", default: "0.0.0.0:8443" },
      "sweep-seconds": { type: "string", default: "30" },
      // frontend
      "bulk-max-rows": { type: "string" },
      "backend-url": { type: "string", default: "https://ra:8443" },
      "tls-dir": { type: "string", default: "/etc/lanic-ca/tls" },
      "backend-tls-dir": { type: "string", default: "/etc/lanic-ca/ra-backend-client" },
      // the pages (ADR 0067/0068): which exposure this frontend serves, and the CA chain for PKCS#12
      exposure: { type: "string", default: "operator" },
      "chain-file": { type: "string", default: "/etc/lanic-ca/ca-chain/chain.pem" },
    },
    strict: true,
  });
  if (values.backend === values.frontend) throw new Error("give exactly one of --backend or --frontend");
  const { host, port } = hostPort(values.listen!);
  if (values.frontend) {
    const rows = Number(values["bulk-max-rows"] ?? "10000");
    if (!Number.isInteger(rows) || rows < 1) throw new Error(`--bulk-max-rows (${values["bulk-max-rows"]}) must be a positive integer`);
    const exposure = values.exposure;
    if (exposure !== "applicant" && exposure !== "operator") throw new Error(`--exposure (${exposure}) must be applicant or operator`);
    // The frontend holds no database (ADR 0060): its failed start is a log line, the backend's
    // audit log records only what the backend does.
    let app: Awaited<ReturnType<typeof buildRaFrontend>> | undefined;
    try {
      const backendTls = tlsDir(values["backend-tls-dir"]!);
      app = await buildRaFrontend({ tls: tlsDir(values["tls-dir"]!), backendUrl: values["backend-url"]!, backendTls, bulkMaxRows: rows, exposure });
      await registerRaPages(app, { exposure, backendUrl: values["backend-url"]!, backendTls, chainPem: readFileSync(values["chain-file"]!, "utf8") });
      await app.listen({ host, port }).catch((err: NodeJS.ErrnoException) => Promise.reject(listenError(err, host, port)));
    } catch (err) {
      log({ event: "service.start.failed", role: "ra-frontend", exposure, reason: (err as Error).message });
      await app?.close().catch(() => undefined);
      throw err;
    }
    const frontend = app;
    log({ event: "listening", role: "ra-frontend", exposure, host, port: (frontend.server.address() as { port: number }).port, backend: values["backend-url"] });
    onStop(() => frontend.close());
    return -1;
  }
  const config = readRaConfig(values.config!);
  const db = await openDatabase({ url: values.db ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/ra-db", migrations: RA_MIGRATIONS });
  const audit = new AuditLog(db);
  let ca: CaClient | undefined;
  let app: Awaited<ReturnType<typeof buildRaBackend>> | undefined;
  let service: RaService;
  try {
    ca = CaClient.fromDir(config.issuingCa.url, config.issuingCa.clientTlsDir);
    service = new RaService({ config, db, audit, ca });
    await audit.append("service.start", "system", { role: "ra", environment: config.environment, kinds: Object.keys(config.kinds), issuingCa: config.issuingCa.url });
    app = await buildRaBackend(service, tlsDir(config.tlsDir));
    await app.listen({ host, port }).catch((err: NodeJS.ErrnoException) => Promise.reject(listenError(err, host, port)));
  } catch (err) {
    await auditFailedStart(audit, "system", { role: "ra" }, err);
    await app?.close().catch(() => undefined);
    ca?.close();
    await db.close();
    throw err;
  }
  const backend = app;
  const caClient = ca;
  log({ event: "listening", role: "ra", host, port: (backend.server.address() as { port: number }).port });
  // Approved applications not yet issued (a crash, a CA outage) and expired codes, in the background.
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await service.expireCodes();
      await purgeExpiredEvidence(service);
      const n = await service.issuePending();
      if (n) log({ event: "issued-pending", count: n });
    } catch (err) {
      log({ event: "sweep-failed", reason: (err as Error).message });
    } finally {
      sweeping = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), Number(values["sweep-seconds"]) * 1000);
  timer.unref();
  onStop(async () => {
    clearInterval(timer);
    await backend.close();
    await audit.append("service.stop", "system", { role: "ra" }).catch(() => undefined);
    caClient.close();
    await db.close();
  });
  return -1;
}
