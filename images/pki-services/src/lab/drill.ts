/**
 * The failover drill and the point-in-time recovery, on one machine with the real parts
 * (docs/runbooks/failover.md; BR 5.7.1.1 (9): contingency plans are tested):
 *
 *   LANIC: PostgreSQL 15 primary (WAL archive, synchronous standby "backup_site"), the issuing CA
 *          as its own process on SoftHSM token "lanic-issuing", the CRL publisher, the OCSP
 *          signer pushing into the public responder's cache.
 *   backup site: the streaming replica (from a base backup), a fresh SoftHSM token into which
 *          the CA and OCSP keys are restored from the key backup (wrapped under the custodians'
 *          trusted wrapping key, docs/adr/0081).
 *
 * The LANIC database and issuing CA are SIGKILLed in the middle of issuing; the replica is
 * promoted, the keys restored, the issuing CA, CRL publisher and OCSP signer start at the backup
 * site and issuance continues. The drill checks what an auditor asks, measures RPO and RTO
 * against the environment's continuity targets, and writes the evidence (Markdown + JSON).
 */
import "reflect-metadata";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { verifyAudit } from "../audit/log.js";
import { IssuingCaServiceConfig, type Profile } from "../config/schema.js";
import { hsmDigestSigner } from "../crl/digest-signer.js";
import { CrlPublisher } from "../crl/publisher.js";
import { responderCsr } from "../ocsp/responder-cert.js";
import { ResponseCache, serveOcsp } from "../ocsp/server.js";
import { OcspSigner } from "../ocsp/signer.js";
import { installTrustedWrappingKey, Pkcs11Token } from "../pkcs11/index.js";
import { openDatabase, type Database } from "../storage/db.js";
import { createSoftHsmToken } from "./softhsm.js";
import { createCaCertificate } from "./test-ca.js";
import { PgNode, pgFolder } from "./postgres.js";

const MAIN = join(import.meta.dirname, "../main.js");
const PIN = "1234";
const SO_PIN = "12345678";
const URLS = { caIssuers: "http://repository.lab/certs/drill-ca.der", crl: "http://repository.lab/crl/drill-ca.crl", ocsp: "http://ocsp.lab" };
const base = () => ({
  allowedKeyAlgorithms: ["ECDSA_P256" as const],
  policyOids: ["1.3.6.1.4.1.99999.1.1"],
  subject: { required: ["CN" as const, "O" as const, "C" as const], optional: [], countries: ["LA"] },
  subjectAltNames: { dns: false, email: false, required: false },
});
const PROFILES: Record<string, Profile> = {
  operator: { ...base(), kind: "operator-client", description: "drill", maxValidityDays: 365, keyUsage: ["digitalSignature"], extendedKeyUsage: ["clientAuth"], ocspNoCheck: false },
  // BR 7.1.2.8.8 / our CP: an OCSP responder certificate carries no certificatePolicies
  ocsp: { ...base(), policyOids: [], kind: "ocsp-signing", description: "drill responder", maxValidityDays: 30, keyUsage: ["digitalSignature"], extendedKeyUsage: ["ocspSigning"], ocspNoCheck: true },
};

export interface ContinuityTargets {
  readonly rpoMinutes: number;
  readonly rtoHours: number;
}

export interface DrillOptions {
  /** An empty folder (made 0755 for the postgres user). */
  readonly dir: string;
  readonly environment: string;
  readonly targets: ContinuityTargets;
  /** Acknowledged issuances at LANIC before the kill. @default 200 */
  readonly before?: number;
  /** Issuances at the backup site after the switch. @default 50 */
  readonly after?: number;
  /** Synthetic certificate rows loaded before the drill (database size for the bench). @default 0 */
  readonly seedRows?: number;
  /** Where the evidence report goes (drill-report.md, drill-report.json). @default dir */
  readonly out?: string;
}

export interface Step {
  readonly step: string;
  readonly at: string;
  /** Milliseconds since the start of the drill. */
  readonly t: number;
  readonly detail?: string;
}

export interface DrillReport {
  readonly environment: string;
  readonly startedAt: string;
  readonly steps: Step[];
  readonly acknowledgedBeforeKill: number;
  readonly cutOffByKill: number;
  readonly reconciledAtBackup: number;
  readonly issuedAtBackup: number;
  readonly databaseRows: number;
  readonly crlNumbers: { lanic: string; backup: string };
  readonly auditRecords: number;
  readonly ocsp: { queries: number; failures: number };
  readonly rpo: { lostAcknowledged: number; measuredSeconds: number; targetMinutes: number; met: boolean };
  readonly rto: { measuredSeconds: number; targetHours: number; met: boolean };
  readonly checks: { check: string; ok: boolean; detail: string }[];
  readonly ok: boolean;
}

interface Site {
  proc: ChildProcess;
  port: number;
  reconciled: number;
}

function startIssuingCa(configFile: string, dbUrl: string, env: Record<string, string>): Promise<Site> {
  const proc = spawn(process.execPath, [MAIN, "issuing-ca", "--config", configFile, "--db", dbUrl, "--listen", "127.0.0.1:0", "--insecure-test-identity-header", "--pool-size", "4", "--reconcile-grace-seconds", "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", (line) => {
      const m = JSON.parse(line) as { port: number; reconciled: number };
      resolve({ proc, port: m.port, reconciled: m.reconciled });
    });
    proc.once("exit", (code) => reject(new Error(`issuing-ca exited with ${code}: ${stderr}`)));
  });
}

function post(agent: http.Agent, port: number, path: string, body: Buffer | string, type: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": type, "content-length": Buffer.byteLength(body), "x-test-client-identity": "lanic-ra" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function issue(agent: http.Agent, port: number, profile: string, csr: string): Promise<{ serial: string; certificate: string }> {
  const r = await post(agent, port, "/v1/certificates", JSON.stringify({ profile, csr }), "application/json");
  if (r.status !== 201) throw new Error(`issuance refused: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
  return JSON.parse(r.body.toString()) as { serial: string; certificate: string };
}

function csr(dir: string, cn: string): string {
  const key = join(dir, "subscriber.key");
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], { stdio: "ignore" });
  return execFileSync("openssl", ["req", "-new", "-key", key, "-subj", `/C=LA/O=LANIC/CN=${cn}`, "-sha256"], { env: { ...process.env, OPENSSL_CONF: "/dev/null" } }).toString();
}

const crlNumber = (file: string) => BigInt(execFileSync("openssl", ["crl", "-inform", "DER", "-in", file, "-noout", "-crlnumber"]).toString().trim().split("=")[1]);

/** Loads `rows` synthetic issued certificates (copies of an issued one's row under new serials) in one statement. */
export async function seedCertificates(db: Database, rows: number): Promise<void> {
  if (rows <= 0) return;
  const cols = await db.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'certificates' ORDER BY ordinal_position");
  const names = cols.map((c) => c.column_name);
  const template = (await db.query<Record<string, unknown>>("SELECT * FROM certificates WHERE status = 'issued' LIMIT 1"))[0];
  if (!template) throw new Error("seedCertificates needs one issued certificate to copy");
  const select = names.map((n) => (n === "serial" ? "'7f' || lpad(to_hex(g), 30, '0')" : `t.${n}`)).join(", ");
  await db.query(`INSERT INTO certificates (${names.join(", ")}) SELECT ${select} FROM generate_series(1, ${rows}) g, (SELECT * FROM certificates WHERE serial = $1) t`, [template.serial]);
}

export async function runFailoverDrill(o: DrillOptions): Promise<DrillReport> {
  const dir = pgFolder(o.dir);
  const out = o.out ?? dir;
  const before = o.before ?? 200;
  const after = o.after ?? 50;
  const t0 = Date.now();
  const steps: Step[] = [];
  const step = (name: string, detail?: string) => {
    steps.push({ step: name, at: new Date().toISOString(), t: Date.now() - t0, detail });
    if (process.env.DRILL_TRACE) console.error(`[drill] ${((Date.now() - t0) / 1000).toFixed(2)} s ${name}${detail ? `: ${detail}` : ""}`);
  };
  const archive = pgFolder(join(dir, "wal-archive"));
  const children: ChildProcess[] = [];
  const nodes: PgNode[] = [];
  const tokens: Pkcs11Token[] = [];
  const dbs: Database[] = [];
  let responder: { close(): Promise<void> } | undefined;
  try {
    // --- the two sites' HSMs, the CA keys generated for backup, the key backup ----------------
    const hsmDir = join(dir, "hsm");
    mkdirSync(hsmDir);
    const lanicHsm = createSoftHsmToken({ dir: hsmDir, tokenLabel: "lanic-issuing", pin: PIN, soPin: SO_PIN });
    const backupHsm = createSoftHsmToken({ dir: hsmDir, tokenLabel: "backup-issuing", pin: PIN, soPin: SO_PIN });
    // The custodians' wrapping key (from their shares in a key-backup ceremony), trusted by the SO.
    const wrappingKey = randomBytes(32);
    installTrustedWrappingKey({ library: lanicHsm.library, tokenLabel: lanicHsm.tokenLabel, soPin: SO_PIN, label: "custodian-wrapping-key", key: wrappingKey });
    const lanic = await Pkcs11Token.open({ library: lanicHsm.library, tokenLabel: lanicHsm.tokenLabel, pin: PIN, poolSize: 2 });
    tokens.push(lanic);
    await lanic.generateKeyPair("root", "ECDSA_P384");
    const caKey = await lanic.generateKeyPair("drill-ca", "ECDSA_P256", { backup: true });
    const ocspKey = await lanic.generateKeyPair("drill-ca-ocsp", "ECDSA_P256", { backup: true });
    const rootSigner = await lanic.signer("root", "ECDSA_P384");
    const caSigner = await lanic.signer("drill-ca", "ECDSA_P256");
    const nb = new Date(Date.now() - 86_400_000);
    const rootCert = await createCaCertificate({ subject: "CN=Drill Root CA,O=MTC,C=LA", subjectSigner: rootSigner, notBefore: nb, notAfter: new Date(Date.now() + 3650 * 86_400_000), pathLength: 1 });
    const caCert = await createCaCertificate({
      subject: "CN=Drill Issuing CA,O=MTC,C=LA",
      subjectSigner: caSigner,
      issuer: { certificate: rootCert, signer: rootSigner },
      notBefore: nb,
      notAfter: new Date(Date.now() + 1825 * 86_400_000),
      pathLength: 0,
    });
    const caFile = join(dir, "drill-ca.pem");
    const chainFile = join(dir, "chain.pem");
    writeFileSync(caFile, `${caCert.toString("pem")}\n`);
    writeFileSync(chainFile, `${caCert.toString("pem")}\n${rootCert.toString("pem")}\n`);
    const media = [];
    for (const k of [
      { label: "drill-ca", spki: caKey.spki },
      { label: "drill-ca-ocsp", spki: ocspKey.spki },
    ])
      media.push({ label: k.label, algorithm: "ECDSA_P256" as const, spki: k.spki.toString("base64"), wrapped: (await lanic.wrapKey(k.label, "custodian-wrapping-key")).toString("base64") });
    await lanic.destroyWrappingKey("custodian-wrapping-key");
    writeFileSync(join(dir, "key-backup-media.json"), JSON.stringify(media, null, 2));
    step("key backup: CA and OCSP keys wrapped under the custodians' trusted key", `${media.length} keys`);

    // --- the databases: primary with WAL archive, replica from a base backup --------------------
    const primary = await PgNode.primary(dir, "lanic-db", { archive });
    nodes.push(primary);
    const primaryDb = await openDatabase({ url: primary.url, poolSize: 4 });
    dbs.push(primaryDb);
    const replica = await PgNode.replica(dir, "backup_site", primary, { archive });
    nodes.push(replica);
    await primary.requireSyncStandby("backup_site");
    step("databases: primary streaming synchronously to the backup site's replica; WAL archived");

    // the HSM PIN as the services read it: a mounted Secret file, never the environment
    const pinFile = join(dir, "hsm-pin");
    writeFileSync(pinFile, `${PIN}\n`, { mode: 0o400 });
    const config = (token: string, responderToken: string) =>
      IssuingCaServiceConfig.parse({
        name: "drill-ca",
        environment: o.environment,
        keyAlgorithm: "ECDSA_P256",
        hsm: { library: lanicHsm.library, tokenLabel: token, keyLabel: "drill-ca", pinFile },
        urls: URLS,
        crl: { intervalHours: 24, nextUpdateHours: 168 },
        ocsp: {
          enabled: true,
          responseValidityHours: 24,
          refreshHours: 8,
          responder: { hsm: { library: lanicHsm.library, tokenLabel: responderToken, keyLabel: "drill-ca-ocsp", pinFile }, certificatePath: join(dir, "responder.pem"), keyAlgorithm: "ECDSA_P256" },
        },
        profiles: PROFILES,
        raClientSubject: "lanic-ra",
        caCertificatePath: caFile,
      });
    const lanicConfig = join(dir, "lanic-ca.json");
    const backupConfig = join(dir, "backup-ca.json");
    writeFileSync(lanicConfig, JSON.stringify(config("lanic-issuing", "lanic-issuing")));
    writeFileSync(backupConfig, JSON.stringify(config("backup-issuing", "backup-issuing")));

    // --- LANIC in service ----------------------------------------------------------------------
    const site1 = await startIssuingCa(lanicConfig, primary.url, lanicHsm.env);
    children.push(site1.proc);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const request = csr(dir, "drill-subscriber");
    const ocspSignerKey = await lanic.signer("drill-ca-ocsp", "ECDSA_P256");
    const responderCert = await issue(agent, site1.port, "ocsp", await responderCsr(ocspSignerKey, "CN=Drill OCSP,O=MTC,C=LA"));
    const responderDer = Buffer.from(responderCert.certificate.replace(/-----[^-]+-----|\s/g, ""), "base64");
    writeFileSync(join(dir, "responder.pem"), responderCert.certificate);
    const caDer = Buffer.from(caCert.rawData);
    const first = await issue(agent, site1.port, "operator", request);
    if (o.seedRows) {
      await seedCertificates(primaryDb, o.seedRows);
      step("database seeded", `${o.seedRows} certificate rows`);
    }
    const cache = new ResponseCache();
    const served = await serveOcsp(cache, { host: "127.0.0.1", port: 0 });
    responder = served;
    const ocspAt = (db: Database, signer: Awaited<ReturnType<Pkcs11Token["signer"]>>) =>
      new OcspSigner({
        config: config("x", "x"),
        db,
        signer: hsmDigestSigner(signer),
        responderCertificate: responderDer,
        caCertificate: caDer,
        push: async (r) => {
          for (const d of r) cache.put(d);
          return { instance: cache.instance };
        },
      });
    await ocspAt(primaryDb, ocspSignerKey).syncOnce();
    const certFile = join(dir, "first.pem");
    writeFileSync(certFile, first.certificate);
    const reqFile = join(dir, "ocsp.req");
    execFileSync("openssl", ["ocsp", "-issuer", caFile, "-cert", certFile, "-no_nonce", "-reqout", reqFile], { stdio: "ignore" });
    const ocspRequest = (await import("node:fs")).readFileSync(reqFile);
    let ocspQueries = 0;
    let ocspFailures = 0;
    let polling = true;
    const poll = (async () => {
      const a = new http.Agent({ keepAlive: false });
      while (polling) {
        ocspQueries++;
        try {
          const r = await post(a, served.port, "/", ocspRequest, "application/ocsp-request");
          // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED successful(0), responseBytes … }
          if (r.status !== 200 || r.body.subarray(0, 12).indexOf(Buffer.from([0x0a, 0x01, 0x00])) < 0) ocspFailures++;
        } catch {
          ocspFailures++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const crlDir1 = join(dir, "crl-lanic");
    mkdirSync(crlDir1);
    const crl1 = await new CrlPublisher({ config: config("lanic-issuing", "lanic-issuing"), db: primaryDb, signer: hsmDigestSigner(caSigner), caCertificate: caDer, outDir: crlDir1 }).publishOnce();
    step("LANIC in service: issuing CA, CRL published, OCSP answering", `CRL number ${crl1.crlNumber}`);

    // --- issuing; the site is lost in the middle of it -----------------------------------------
    const acknowledged = new Map<string, string>([
      [first.serial, first.certificate],
      [responderCert.serial, responderCert.certificate],
    ]);
    let cutOff = 0;
    let killedAt = 0;
    let lastAckBeforeKill = 0;
    await Promise.allSettled(
      Array.from({ length: 8 }, async () => {
        while (!killedAt) {
          try {
            const r = await issue(agent, site1.port, "operator", request);
            acknowledged.set(r.serial, r.certificate);
            lastAckBeforeKill = Date.now();
            if (acknowledged.size >= before + 2 && !killedAt) {
              killedAt = Date.now();
              site1.proc.kill("SIGKILL");
              primary.kill();
            }
          } catch {
            cutOff++;
            return;
          }
        }
      }),
    );
    agent.destroy();
    step("LANIC lost: primary database and issuing CA SIGKILLed in the middle of issuing", `${acknowledged.size} acknowledged, ${cutOff} requests cut off`);
    await primaryDb.close().catch(() => undefined);
    dbs.splice(dbs.indexOf(primaryDb), 1);

    // --- failover: promote, restore the keys, start the backup site -----------------------------
    replica.promote();
    step("backup site: replica promoted");
    const backupToken = await Pkcs11Token.open({ library: backupHsm.library, tokenLabel: backupHsm.tokenLabel, pin: PIN, poolSize: 2 });
    tokens.push(backupToken);
    for (const m of media) await backupToken.unwrapKey(Buffer.from(m.wrapped, "base64"), m.label, m.algorithm, wrappingKey, Buffer.from(m.spki, "base64"));
    step("backup site: CA and OCSP keys restored from the key backup into the backup HSM");
    const site2 = await startIssuingCa(backupConfig, replica.url, backupHsm.env);
    children.push(site2.proc);
    step("backup site: issuing CA started", `${site2.reconciled} intents reconciled`);
    const agent2 = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const afterSerials = new Map<string, string>();
    const firstAfter = await issue(agent2, site2.port, "operator", request);
    afterSerials.set(firstAfter.serial, firstAfter.certificate);
    const recoveredAt = Date.now();
    step("backup site: first certificate issued (service recovered)");
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (afterSerials.size < after) {
          const r = await issue(agent2, site2.port, "operator", request);
          afterSerials.set(r.serial, r.certificate);
        }
      }),
    );
    agent2.destroy();
    const backupDb = await openDatabase({ url: replica.url, poolSize: 4 });
    dbs.push(backupDb);
    const crlDir2 = join(dir, "crl-backup");
    mkdirSync(crlDir2);
    const restoredCaSigner = await backupToken.signer("drill-ca", "ECDSA_P256");
    const crl2 = await new CrlPublisher({ config: config("backup-issuing", "backup-issuing"), db: backupDb, signer: hsmDigestSigner(restoredCaSigner), caCertificate: caDer, outDir: crlDir2 }).publishOnce();
    const crlVerify = spawnSync("openssl", ["crl", "-inform", "DER", "-in", crl2.derPath, "-CAfile", chainFile, "-noout"], { encoding: "utf8" });
    await ocspAt(backupDb, await backupToken.signer("drill-ca-ocsp", "ECDSA_P256")).syncOnce();
    step("backup site: CRL published and OCSP signed with the restored keys", `CRL number ${crl2.crlNumber}`);
    polling = false;
    await poll;

    // --- what the auditor asks ----------------------------------------------------------------
    const rows = await backupDb.query<{ serial: string; status: string; der: Buffer | null }>("SELECT serial, status, der FROM certificates");
    const bySerial = new Map(rows.map((r) => [r.serial, r]));
    const lost = [...acknowledged].filter(([s, pem]) => !bySerial.get(s)?.der?.equals(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64")));
    const reused = [...afterSerials.keys()].filter((s) => acknowledged.has(s));
    const audit = await verifyAudit(backupDb);
    const auditCount = Number((await backupDb.query<{ n: string }>("SELECT count(*) AS n FROM audit_log"))[0].n);
    const n1 = crlNumber(crl1.derPath);
    const n2 = crlNumber(crl2.derPath);
    const rtoSeconds = (recoveredAt - killedAt) / 1000;
    const rpoSeconds = lost.length ? (killedAt - lastAckBeforeKill) / 1000 : 0;
    const checks = [
      {
        check: "no serial reused",
        ok: bySerial.size === rows.length && reused.length === 0,
        detail: `${rows.length} rows, ${bySerial.size} distinct serials; ${reused.length} serials of the backup site were issued before`,
      },
      { check: "no acknowledged issuance lost", ok: lost.length === 0, detail: `${acknowledged.size} acknowledged at LANIC, ${lost.length} missing or different in the promoted database` },
      { check: "issuance continues at the backup site", ok: afterSerials.size >= after && [...afterSerials.keys()].every((s) => bySerial.get(s)?.status === "issued"), detail: `${afterSerials.size} issued and recorded` },
      { check: "CRLNumber strictly increasing across the switch", ok: n2 > n1 && crl2.crlNumber > crl1.crlNumber, detail: `LANIC ${n1}, backup site ${n2}` },
      {
        check: "CRL of the backup site verifies under the old CA certificate (restored key)",
        ok: crlVerify.status === 0 && /verify OK/.test(crlVerify.stderr),
        detail: `openssl crl -CAfile chain: ${crlVerify.stderr.trim()}`,
      },
      { check: "audit chain verifies across both sites", ok: audit.ok, detail: `${auditCount} records${audit.ok ? "" : `: ${JSON.stringify(audit).slice(0, 200)}`}` },
      { check: "OCSP answered throughout from its cache", ok: ocspFailures === 0 && ocspQueries > 0, detail: `${ocspQueries} queries, ${ocspFailures} failures` },
      { check: `RPO within the target (${o.targets.rpoMinutes} min)`, ok: rpoSeconds <= o.targets.rpoMinutes * 60, detail: `${rpoSeconds} s` },
      { check: `RTO within the target (${o.targets.rtoHours} h)`, ok: rtoSeconds <= o.targets.rtoHours * 3600, detail: `${rtoSeconds.toFixed(1)} s` },
    ];
    const report: DrillReport = {
      environment: o.environment,
      startedAt: new Date(t0).toISOString(),
      steps,
      acknowledgedBeforeKill: acknowledged.size,
      cutOffByKill: cutOff,
      reconciledAtBackup: site2.reconciled,
      issuedAtBackup: afterSerials.size,
      databaseRows: rows.length,
      crlNumbers: { lanic: n1.toString(), backup: n2.toString() },
      auditRecords: auditCount,
      ocsp: { queries: ocspQueries, failures: ocspFailures },
      rpo: { lostAcknowledged: lost.length, measuredSeconds: rpoSeconds, targetMinutes: o.targets.rpoMinutes, met: rpoSeconds <= o.targets.rpoMinutes * 60 },
      rto: { measuredSeconds: rtoSeconds, targetHours: o.targets.rtoHours, met: rtoSeconds <= o.targets.rtoHours * 3600 },
      checks,
      ok: checks.every((c) => c.ok),
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "drill-report.json"), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(out, "drill-report.md"), renderDrillReport(report));
    return report;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await responder?.close();
    for (const d of dbs) await d.close().catch(() => undefined);
    for (const t of tokens) t.close();
    for (const n of nodes) n.stop();
  }
}

export function renderDrillReport(r: DrillReport): string {
  return [
    `# Failover drill — ${r.environment}`,
    "",
    `Started ${r.startedAt}. Result: **${r.ok ? "PASSED" : "FAILED"}**.`,
    "",
    "| objective | target | measured | met |",
    "| --- | --- | --- | --- |",
    `| RPO | ${r.rpo.targetMinutes} min | ${r.rpo.measuredSeconds} s (${r.rpo.lostAcknowledged} acknowledged issuances lost) | ${r.rpo.met ? "yes" : "NO"} |`,
    `| RTO | ${r.rto.targetHours} h | ${r.rto.measuredSeconds.toFixed(1)} s (kill → first certificate at the backup site) | ${r.rto.met ? "yes" : "NO"} |`,
    "",
    "## Steps",
    "",
    "| t (s) | time | step | detail |",
    "| --- | --- | --- | --- |",
    ...r.steps.map((s) => `| ${(s.t / 1000).toFixed(2)} | ${s.at} | ${s.step} | ${s.detail ?? ""} |`),
    "",
    "## Checks",
    "",
    "| check | result | detail |",
    "| --- | --- | --- |",
    ...r.checks.map((c) => `| ${c.check} | ${c.ok ? "ok" : "FAILED"} | ${c.detail} |`),
    "",
    `Acknowledged at LANIC before the kill: ${r.acknowledgedBeforeKill}; requests cut off: ${r.cutOffByKill}; intents reconciled (revoked) at the backup site: ${r.reconciledAtBackup}; issued at the backup site: ${r.issuedAtBackup}; rows in the promoted database: ${r.databaseRows}; audit records: ${r.auditRecords}; CRL numbers: LANIC ${r.crlNumbers.lanic} → backup ${r.crlNumbers.backup}; OCSP: ${r.ocsp.queries} queries, ${r.ocsp.failures} failures.`,
    "",
  ].join("\n");
}

export interface PitrOptions {
  readonly dir: string;
  /** Certificates in the database before the bad change (synthetic rows after one real one). @default 1000 */
  readonly rows?: number;
}

export interface PitrReport {
  readonly rowsBefore: number;
  readonly rowsAfterBadChange: number;
  readonly rowsRestored: number;
  readonly auditOk: boolean;
  /** Base backup + WAL replay to the restore point, until the server accepts writes. */
  readonly restoreSeconds: number;
}

/**
 * Point-in-time recovery of the CA database: base backup, more issuance, a restore point, a bad
 * change (every certificate row deleted), then a new server from the base backup and the WAL
 * archive, stopped at the restore point (RFC 3647 5.5.7; BR 5.7.1.1 (13)).
 */
export async function runPitr(o: PitrOptions): Promise<PitrReport> {
  const dir = pgFolder(o.dir);
  const archive = pgFolder(join(dir, "wal-archive"));
  const nodes: PgNode[] = [];
  const dbs: Database[] = [];
  try {
    const primary = await PgNode.primary(dir, "ca-db", { archive });
    nodes.push(primary);
    const db = await openDatabase({ url: primary.url, poolSize: 2 });
    dbs.push(db);
    PgNode.baseBackup(primary, join(dir, "base-backup"));
    // One real issuance (the audit chain and a certificate row), then the rest as copies.
    const hsmDir = join(dir, "hsm");
    mkdirSync(hsmDir);
    const hsm = createSoftHsmToken({ dir: hsmDir, tokenLabel: "pitr", pin: PIN });
    const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: "pitr", pin: PIN, poolSize: 2 });
    try {
      await token.generateKeyPair("ca", "ECDSA_P256");
      const signer = await token.signer("ca", "ECDSA_P256");
      const caCert = await createCaCertificate({
        subject: "CN=PITR CA,O=MTC,C=LA",
        subjectSigner: signer,
        notBefore: new Date(Date.now() - 86_400_000),
        notAfter: new Date(Date.now() + 3650 * 86_400_000),
        pathLength: 0,
      });
      const { IssuingCa } = await import("../issuing-ca/service.js");
      const config = IssuingCaServiceConfig.parse({
        name: "pitr-ca",
        environment: "lab",
        keyAlgorithm: "ECDSA_P256",
        hsm: { library: hsm.library, tokenLabel: "pitr", keyLabel: "ca", pinFile: "/nonexistent/unused-pin" },
        urls: URLS,
        crl: { intervalHours: 24, nextUpdateHours: 168 },
        ocsp: { enabled: false, responseValidityHours: 24, refreshHours: 8 },
        profiles: PROFILES,
        raClientSubject: "lanic-ra",
      });
      const ca = await IssuingCa.start({ config, db, pin: PIN, caCertificate: Buffer.from(caCert.rawData), poolSize: 2 });
      await ca.issue({ profile: "operator", csr: csr(dir, "pitr") }, "lanic-ra");
      await ca.stop();
      await seedCertificates(db, (o.rows ?? 1000) - 1);
    } finally {
      token.close();
    }
    const count = async (d: Database) => Number((await d.query<{ n: string }>("SELECT count(*) AS n FROM certificates"))[0].n);
    const rowsBefore = await count(db);
    primary.sql("SELECT pg_create_restore_point('before-bad-change')");
    await db.query("DELETE FROM certificates");
    const rowsAfterBadChange = await count(db);
    primary.sql("SELECT pg_switch_wal()");
    await primary.waitUntil(
      () =>
        primary.sql("SELECT last_failed_wal IS NULL AND archived_count > 0 AND last_archived_wal >= pg_walfile_name(pg_current_wal_lsn()) FROM pg_stat_archiver").trim() === "t" ||
        primary.sql("SELECT count(*) FROM pg_ls_dir('pg_wal/archive_status') f WHERE f LIKE '%.ready'").trim() === "0",
      60_000,
    );
    await db.close();
    dbs.splice(0);
    primary.stop();
    const t = Date.now();
    const restored = await PgNode.restore(dir, "ca-db-restored", { backup: join(dir, "base-backup"), archive, targetName: "before-bad-change" });
    const restoreSeconds = (Date.now() - t) / 1000;
    nodes.push(restored);
    const rdb = await openDatabase({ url: restored.url, poolSize: 2 });
    dbs.push(rdb);
    return { rowsBefore, rowsAfterBadChange, rowsRestored: await count(rdb), auditOk: (await verifyAudit(rdb)).ok, restoreSeconds };
  } finally {
    for (const d of dbs) await d.close().catch(() => undefined);
    for (const n of nodes) n.stop();
  }
}
