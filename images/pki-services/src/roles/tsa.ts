/**
 * `pki-services tsa --config tsa-config.json`: the time-stamping authority (RFC 3161) in the
 * issuing zone: its own key in the HSM, the database for the token record and the audit log,
 * NTP sources in Laos for its clock. HTTP 8080 (POST /, GET /health).
 */
import "reflect-metadata";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as x509 from "@peculiar/x509";
import { AuditLog } from "../audit/log.js";
import { TsaServiceConfig } from "../config/schema.js";
import { openDatabase } from "../storage/db.js";
import { ClockGuard } from "../tsa/clock.js";
import { accuracyMicros, TSA_OID } from "../tsa/protocol.js";
import { serveTsa } from "../tsa/server.js";
import { TimeStampAuthority } from "../tsa/service.js";
import { auditFailedStart, hostPort, log, onStop, openSigner, readCertificate } from "./common.js";

export function readTsaConfig(path: string): { config: TsaServiceConfig; sha256: string } {
  let bytes: Buffer;
  let raw: unknown;
  try {
    bytes = readFileSync(path);
    raw = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const r = TsaServiceConfig.safeParse(raw);
  if (!r.success) throw new Error(`${path}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return { config: r.data, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** RFC 3161 2.3: the TSA's certificate has exactly one EKU, id-kp-timeStamping, critical. The
 *  TSA refuses to start with any other certificate, whatever its configuration says. */
export function checkTsaCertificate(der: Buffer, path: string): void {
  const cert = new x509.X509Certificate(der);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku) throw new Error(`${path}: the TSA certificate has no extendedKeyUsage (RFC 3161 2.3: id-kp-timeStamping, critical)`);
  if (!eku.critical) throw new Error(`${path}: the TSA certificate's extendedKeyUsage is not critical (RFC 3161 2.3)`);
  const usages = eku.usages.map(String);
  if (usages.length !== 1 || usages[0] !== TSA_OID.timeStamping)
    throw new Error(`${path}: the TSA certificate's extendedKeyUsage is ${usages.join(", ")}; RFC 3161 2.3 requires id-kp-timeStamping (${TSA_OID.timeStamping}) alone`);
  const now = Date.now();
  if (cert.notAfter.getTime() <= now || cert.notBefore.getTime() > now) throw new Error(`${path}: the TSA certificate is not valid now (${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
}

export async function tsaMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: "string" }, db: { type: "string" }, listen: { type: "string", default: "0.0.0.0:8080" }, "pool-size": { type: "string", default: "4" } },
    strict: true,
  });
  if (!values.config) throw new Error("--config is required");
  const { config, sha256 } = readTsaConfig(values.config);
  const listen = hostPort(values.listen!);
  const certificate = readCertificate(config.certificatePath);
  checkTsaCertificate(certificate, config.certificatePath);
  const chain = config.chainPaths.map((p) => readCertificate(p));
  const db = await openDatabase({ url: values.db ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/db" });
  const audit = new AuditLog(db);
  const actor = `tsa:${config.name}`;
  let started = false;
  try {
    const { token, signer } = await openSigner(config.hsm, config.keyAlgorithm, Number(values["pool-size"]));
    const clock = new ClockGuard({
      sources: config.ntp.sources,
      accuracyMicros: accuracyMicros(config.accuracy),
      intervalSeconds: config.ntp.intervalSeconds,
      onChange: (s) => void audit.append(s.synchronised ? "tsa.clock.synchronised" : "tsa.clock.unsynchronised", actor, { reason: s.reason ?? null, measurement: s.lastMeasurement ?? null }).catch(() => undefined),
    });
    const tsa = new TimeStampAuthority({ name: config.name, signer, certificate, chain, policyOid: config.policyOid, acceptedPolicies: config.acceptedPolicies, accuracy: config.accuracy, clock, db });
    const firstClock = await clock.start();
    const server = await serveTsa(tsa, {
      ...listen,
      log,
      health: async () => {
        const h = await token.health();
        const c = clock.status();
        return { ok: h.ok && c.synchronised, clock: c, hsm: { ok: h.ok, reason: h.reason } };
      },
    });
    await audit.append("service.start", actor, { role: "tsa", config: { path: values.config, sha256 }, policy: config.policyOid, clock: firstClock.synchronised ? "synchronised" : firstClock.reason });
    started = true;
    log({ event: "listening", role: "tsa", port: server.port, policy: config.policyOid, clock: firstClock });
    onStop(async () => {
      clock.stop();
      await server.close();
      await audit.append("service.stop", actor, { role: "tsa" }).catch(() => undefined);
      token.close();
      await db.close();
    });
    return -1;
  } catch (err) {
    // A start that fails is audited as such, never left as a start without a stop.
    if (!started) await auditFailedStart(audit, actor, { role: "tsa" }, err);
    await db.close();
    throw err;
  }
}
