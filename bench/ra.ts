/**
 * The registration authority (ADR 0060, 0062), ratios measured in the same run:
 *
 *   bulk     a CSV of 10,000 rows (and of 1,000), dry run and real upload through the RA's
 *            streaming upload (uploadBatch, what POST /api/v1/batches pipes the body into):
 *            rows per second and the peak of the JS heap + buffers above the level before the
 *            upload; the file must not be held whole: peak(10,000) / peak(1,000) ≤ 1.5
 *   e2e      approved applications issued through the RA (issuePending: read the application,
 *            the vetted subject, POST to the issuing CA over mTLS with its idempotency key,
 *            record certificate and serial, audit) against the issuing CA alone issuing the same
 *            requests through the same mTLS client at the same concurrency: ≥ 0.8
 *
 * PostgreSQL 15 for both stores (as production runs them), SoftHSM2 for the CA key; the issuing
 * CA is served in this process over mTLS, as in test/ra-crash.test.ts.
 *
 * Usage: node dist/bench/ra.js [--rows 10000] [--small 1000] [--apps 1000]
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AuditLog } from "@lanic-ca/pki-services/audit/log";
import { IssuingCaServiceConfig, Profile } from "@lanic-ca/pki-services/config/schema";
import { serveIssuingCa } from "@lanic-ca/pki-services/issuing-ca/http";
import { IssuingCa } from "@lanic-ca/pki-services/issuing-ca/service";
import { createCaCertificate, createSoftHsmToken } from "@lanic-ca/pki-services/lab/index";
import { PgNode, pgFolder } from "@lanic-ca/pki-services/lab/postgres";
import { Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import type { Actor } from "@lanic-ca/pki-services/ra/auth";
import { CaClient } from "@lanic-ca/pki-services/ra/ca-client";
import { RaServiceConfig } from "@lanic-ca/pki-services/ra/config";
import { uploadBatch } from "@lanic-ca/pki-services/ra/csv";
import { RA_MIGRATIONS } from "@lanic-ca/pki-services/ra/migrations";
import { RaService, vettedSubject } from "@lanic-ca/pki-services/ra/service";
import { openDatabase } from "@lanic-ca/pki-services/storage/db";
import pg from "pg";
import { CP_PROFILES, raKinds } from "../environments/cp.js";
import { report } from "./harness.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "10000" }, small: { type: "string", default: "1000" }, apps: { type: "string", default: "1000" } } });
const ROWS = Number(values.rows);
const SMALL = Number(values.small);
const APPS = Number(values.apps);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const dir = mkdtempSync(join(tmpdir(), "bench-ra-"));
chmodSync(dir, 0o755); // PostgreSQL runs as postgres: a mkdtemp folder is 0700
const stops: (() => unknown)[] = [];
const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OPENSSL_CONF: "/dev/null" } });

/** A service CA and two mTLS identities for the RA → issuing CA hop. */
function tls(): { caServer: { key: Buffer; cert: Buffer }; raClientDir: string; ca: Buffer } {
  const f = (n: string) => join(dir, n);
  openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("svc-ca.key"),
    "-out",
    f("svc-ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=bench service CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  const leaf = (name: string, cn: string, ext: string) => {
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${cn}`]);
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    openssl(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("svc-ca.pem"), "-CAkey", f("svc-ca.key"), "-CAcreateserial", "-days", "2", "-out", f(`${name}.pem`), "-extfile", f(`${name}.ext`)]);
    return { key: readFileSync(f(`${name}.key`)), cert: readFileSync(f(`${name}.pem`)) };
  };
  const caServer = leaf("ca-server", "issuing-ca-1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  const raClient = leaf("ra-client", "lanic-ra", "extendedKeyUsage=clientAuth");
  const ca = readFileSync(f("svc-ca.pem"));
  const raClientDir = f("ra-client");
  mkdirSync(raClientDir);
  writeFileSync(join(raClientDir, "tls.key"), raClient.key);
  writeFileSync(join(raClientDir, "tls.crt"), raClient.cert);
  writeFileSync(join(raClientDir, "ca.crt"), ca);
  return { caServer, raClientDir, ca };
}

/**
 * Peak of the live JS heap + ArrayBuffers (the parser's chunks) above the level at the start,
 * while `f` runs: a full GC before each sample (every 20 ms and at each chunk of the file), so garbage not yet collected does
 * not count, only what the upload holds. Slows `f`: its rate is measured in another run.
 */
async function peakOf<T>(f: (sample: () => void) => Promise<T>): Promise<{ result: T; peakMiB: number; totalMiB: number }> {
  const level = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = level();
  let peak = base;
  const sample = () => {
    peak = Math.max(peak, level());
  };
  const timer = setInterval(sample, 20);
  try {
    const result = await f(sample);
    return { result, peakMiB: (peak - base) / 2 ** 20, totalMiB: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** A ministry's file: Lao names, a quoted field with a comma, one bad row in 50 (bad mailbox). */
function officialsCsv(rows: number, tag: string): Buffer {
  const lines = ["\ufeffholderName,position,ministry,department,email,appointmentReference"];
  for (let i = 0; i < rows; i++) {
    const email = i % 50 === 49 ? "not-a-mailbox" : `official${i}@mtc.gov.la`;
    lines.push(`ທ້າວ ສົມໃຈ ພົມມະຈັນ ${i},ຫົວໜ້າພະແນກ,ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ,"ກົມ ${i % 17}, ພະແນກ ${i % 5}",${email},${tag}-${i}/ກຕສ`);
  }
  return Buffer.from(`${lines.join("\r\n")}\r\n`, "utf8");
}

try {
  // ---------------------------------------------------------------- the CA, the RA, the stores
  const pgNode = await PgNode.primary(pgFolder(join(dir, "pg")), "ra", { archive: pgFolder(join(dir, "archive")) });
  stops.push(() => pgNode.stop());
  const admin = new pg.Client({ connectionString: pgNode.url });
  await admin.connect();
  await admin.query("CREATE DATABASE ra_store");
  await admin.end();
  const caDb = await openDatabase({ url: pgNode.url });
  stops.push(() => caDb.close());
  const raDb = await openDatabase({ url: pgNode.url.replace(/\/[^/]+$/, "/ra_store"), migrations: RA_MIGRATIONS });
  stops.push(() => raDb.close());

  const hsm = createSoftHsmToken({ dir, tokenLabel: "bench-ra" });
  const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin: hsm.pin, poolSize: 2 });
  await token.generateKeyPair("root", "ECDSA_P384");
  await token.generateKeyPair("issuing-ca-1", "ECDSA_P256");
  const root = await token.signer("root", "ECDSA_P384");
  const rootCert = await createCaCertificate({ subject: "CN=Bench Root,O=MTC,C=LA", subjectSigner: root, notBefore: new Date("2025-01-01"), notAfter: new Date("2040-01-01"), pathLength: 1 });
  const caCert = await createCaCertificate({
    subject: "CN=Bench Issuing CA 1,O=MTC,C=LA",
    subjectSigner: await token.signer("issuing-ca-1", "ECDSA_P256"),
    issuer: { certificate: rootCert, signer: root },
    notBefore: new Date("2025-01-01"),
    notAfter: new Date("2035-01-01"),
    pathLength: 0,
  });
  token.close();
  const caFile = join(dir, "issuing-ca.pem");
  writeFileSync(caFile, caCert.toString("pem"));
  const pinFile = join(dir, "hsm-pin");
  writeFileSync(pinFile, `${hsm.pin}\n`, { mode: 0o400 });
  Object.assign(process.env, hsm.env);
  const profiles = Object.fromEntries(Object.entries(CP_PROFILES).map(([n, p]) => [n, Profile.parse(p)]));
  const issuing = await IssuingCa.start({
    config: IssuingCaServiceConfig.parse({
      name: "issuing-ca-1",
      environment: "test",
      keyAlgorithm: "ECDSA_P256",
      hsm: { library: hsm.library, tokenLabel: hsm.tokenLabel, keyLabel: "issuing-ca-1", pinFile },
      urls: { caIssuers: "http://repo.ca.gov.la/ca1.crt", crl: "http://crl.ca.gov.la/ca1.crl", ocsp: "http://ocsp.ca.gov.la" },
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 24, refreshHours: 8 },
      profiles,
      raClientSubject: "lanic-ra",
      caCertificatePath: caFile,
    }),
    db: caDb,
    pin: hsm.pin,
    caCertificate: Buffer.from(caCert.rawData),
    poolSize: 8,
    reconcileGraceSeconds: 0,
  });
  stops.push(() => issuing.stop());
  const t = tls();
  const caSrv = await serveIssuingCa(issuing, { host: "127.0.0.1", port: 0, identity: { kind: "mtls", key: t.caServer.key, cert: t.caServer.cert, clientCa: t.ca } });
  stops.push(() => caSrv.close());
  const config = RaServiceConfig.parse({
    environment: "test",
    issuingCa: { url: `https://127.0.0.1:${caSrv.port}`, clientTlsDir: t.raClientDir },
    tlsDir: t.raClientDir,
    frontendClients: ["ra-frontend"],
    operatorPolicyOid: "2.16.418.1.1.3.1",
    kinds: raKinds(CP_PROFILES),
    bulkUploadMaxRows: Math.max(ROWS, SMALL),
    evidence: { retentionDays: 2557 },
  });
  const caClient = CaClient.fromDir(config.issuingCa.url, config.issuingCa.clientTlsDir);
  stops.push(() => caClient.close());
  const service = new RaService({ config, db: raDb, audit: new AuditLog(raDb), ca: caClient });
  const operator: Actor = { id: "C=LA,O=MTC,CN=Bench Operator", kind: "operator", roles: new Set(["ra-operator"]) };

  // ---------------------------------------------------------------- bulk CSV
  console.log(`RA bench: PostgreSQL 15, SoftHSM2, the issuing CA over mTLS in this process; bulk ${SMALL} and ${ROWS} rows, e2e ${APPS} applications`);
  // The file arrives as a request body does (a byte stream, 16 KiB high-water mark as
  // http.IncomingMessage): 64 KiB chunks, the event loop turning between them
  // (memory is sampled at each chunk too). The file itself is made before the measurement.
  async function* body(b: Buffer, onChunk?: () => void) {
    for (let i = 0; i < b.length; i += 64 * 1024) {
      onChunk?.();
      await new Promise((r) => setImmediate(r));
      yield b.subarray(i, i + 64 * 1024);
    }
  }
  const upload = async (rows: number, dryRun: boolean) => {
    const run = async (file: Buffer, onChunk?: () => void) => {
      const r = await uploadBatch(service, operator, { kind: "ex-officio-signing", filename: "officials.csv", dryRun }, Readable.from(body(file, onChunk), { objectMode: false, highWaterMark: 16 * 1024 }));
      if (r.rows !== rows || r.accepted !== rows - Math.floor(rows / 50)) throw new Error(`bench: the upload of ${rows} rows reported ${r.rows} rows, ${r.accepted} accepted`);
    };
    const file = officialsCsv(rows, randomUUID().slice(0, 8));
    const t0 = performance.now();
    await run(file);
    const rate = rows / ((performance.now() - t0) / 1000);
    const other = officialsCsv(rows, randomUUID().slice(0, 8)); // a real upload of the same file would be a duplicate
    const { peakMiB, totalMiB } = await peakOf((sample) => run(other, sample));
    return { bytes: file.length, rate, peakMiB, totalMiB };
  };
  await upload(SMALL, true); // warm-up (JIT, the connection pool)
  const bulk: Record<string, Awaited<ReturnType<typeof upload>>> = {};
  for (const dryRun of [true, false]) for (const rows of [SMALL, ROWS]) bulk[`${dryRun ? "dry run" : "upload"} ${rows}`] = await upload(rows, dryRun);
  console.log(`\n  ${"bulk CSV".padEnd(14)} ${"MiB file".padStart(9)} ${"rows/s".padStart(8)} ${"peak MiB".padStart(9)} ${"above start".padStart(12)}`);
  for (const [name, m] of Object.entries(bulk))
    console.log(`  ${name.padEnd(14)} ${(m.bytes / 2 ** 20).toFixed(2).padStart(9)} ${m.rate.toFixed(0).padStart(8)} ${m.totalMiB.toFixed(1).padStart(9)} ${m.peakMiB.toFixed(2).padStart(12)}`);
  // Judged on the peak of the live heap + buffers (what the process needs, the bench's own copy
  // of the file included); the growth above the start is printed beside it, since a few MiB held
  // per file would hide in the total.
  for (const mode of ["dry run", "upload"]) {
    const big = bulk[`${mode} ${ROWS}`];
    const small = bulk[`${mode} ${SMALL}`];
    report(
      `bulk ${mode}: peak memory ${ROWS} rows vs ${SMALL}`,
      big.totalMiB / small.totalMiB,
      `${big.totalMiB.toFixed(1)} vs ${small.totalMiB.toFixed(1)} MiB (${big.peakMiB.toFixed(2)} vs ${small.peakMiB.toFixed(2)} MiB above the start); ${big.rate.toFixed(0)} rows/s`,
      { max: 1.5 },
    );
  }

  // ---------------------------------------------------------------- end to end
  const keyFile = join(dir, "holder.pem");
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
  const csrs = Array.from({ length: 8 }, (_, i) => openssl(["req", "-new", "-utf8", "-key", keyFile, "-subj", `/CN=holder ${i}`]).toString());
  const kind = service.kind("organisation-signing");
  const fieldsOf = (i: number, tag: string) => ({
    companyName: `ບໍລິສັດ ທົດລອງ ${i}`,
    legalName: `ບໍລິສັດ ທົດລອງ ${i} ຈຳກັດ`,
    licenceNumber: `MTC-${tag}-${i}`,
    licenceIssuer: "MTC",
    contactEmail: `c${i}@example.la`,
    country: "LA",
  });
  /** `n` applications vetted by two people and approved with a CSR: the state the RA issues from. */
  const approve = async (n: number, tag: string) => {
    for (let i = 0; i < n; i += 250) {
      const params: unknown[] = [];
      const rows = Array.from(
        { length: Math.min(250, n - i) },
        (_, j) =>
          `($${params.push(randomUUID())}, 'organisation-signing', 'approved', $${params.push(JSON.stringify(fieldsOf(i + j, tag)))}, $${params.push(csrs[(i + j) % csrs.length])}, 'C=LA,O=MTC,CN=Noy', 'C=LA,O=MTC,CN=A', 'C=LA,O=MTC,CN=B', now())`,
      );
      await raDb.query(`INSERT INTO ra_applications (id, kind, state, fields, csr, submitted_by, officer, approver, approved_at) VALUES ${rows.join(", ")}`, params);
    }
  };
  const viaRa = async (n: number) => {
    await approve(n, randomUUID().slice(0, 8));
    const t0 = performance.now();
    const done = await service.issuePending();
    const secs = (performance.now() - t0) / 1000;
    if (done !== n) throw new Error(`bench: the RA issued ${done} of ${n}`);
    return n / secs;
  };
  const caAlone = async (n: number) => {
    const tag = randomUUID().slice(0, 8);
    const reqs = Array.from({ length: n }, (_, i) => ({ profile: kind.profile, csr: csrs[i % csrs.length], subject: vettedSubject(kind, fieldsOf(i, tag)), idempotencyKey: randomUUID() }));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: config.issuanceConcurrency }, async () => {
        while (next < reqs.length) await caClient.issue(reqs[next++]);
      }),
    );
    return n / ((performance.now() - t0) / 1000);
  };
  await caAlone(50);
  await viaRa(50); // warm-up
  // Two interleaved rounds of half the applications each, so machine noise hits both alike.
  const rates = { ra: [] as number[], ca: [] as number[] };
  for (let r = 0; r < 2; r++) {
    rates.ca.push(await caAlone(APPS / 2));
    rates.ra.push(await viaRa(APPS / 2));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  const ra = mean(rates.ra);
  const ca = mean(rates.ca);
  console.log(`\n  e2e: ${APPS} approved applications, concurrency ${config.issuanceConcurrency}: through the RA ${ra.toFixed(0)}/s, the issuing CA alone ${ca.toFixed(0)}/s`);
  report("e2e: RA → issuing CA vs the issuing CA alone", ra / ca, `${ra.toFixed(0)} vs ${ca.toFixed(0)} certificates per second`, { min: 0.8 });
} finally {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
