/**
 * CRL generation at scale (ADR 0050): a 1,000,000-entry CRL from PostgreSQL 15, streamed through a
 * cursor and signed in SoftHSM (`CrlPublisher.publishOnce`: DER + PEM + sha256 + record + audit),
 * against `openssl ca -gencrl` over an index.txt with the same entries, in the same run. Both run
 * as child processes under /usr/bin/time -v for their peak RSS.
 *
 * Targets: no slower than openssl, no more peak memory than openssl.
 * Usage: node dist/bench/crl.js [--entries 1000000]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, createWriteStream } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import { toPem } from "@lanic-ca/pki-services/pki/index";
import { createCaCertificate, createSoftHsmToken } from "@lanic-ca/pki-services/lab/index";
import { hsmDigestSigner } from "@lanic-ca/pki-services/crl/digest-signer";
import { CrlPublisher } from "@lanic-ca/pki-services/crl/publisher";
import { openDatabase } from "@lanic-ca/pki-services/storage/db";
import { IssuingCaServiceConfig } from "@lanic-ca/pki-services/config/schema";
import { freePort } from "./harness.js";

const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
const REASONS = ["", "keyCompromise", "CACompromise", "affiliationChanged", "superseded", "cessationOfOperation"];

/** A throwaway PostgreSQL 15 (as the `postgres` user when run as root). */
async function startPostgres(): Promise<{ url: string; stop: () => void }> {
  const root = process.getuid?.() === 0;
  const top = mkdtempSync(join(tmpdir(), "bench-crl-pg-"));
  const data = join(top, "pg");
  mkdirSync(data);
  if (root) for (const d of [top, data]) chownSync(d, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  const run = (bin: string, args: string[]) => (root ? execFileSync("runuser", ["-u", "postgres", "--", join(PG_BIN, bin), ...args], { stdio: "pipe" }) : execFileSync(join(PG_BIN, bin), args, { stdio: "pipe" }));
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  run("pg_ctl", ["-D", data, "-o", `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`, "-l", join(data, "log"), "-w", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      spawnSync(root ? "runuser" : join(PG_BIN, "pg_ctl"), root ? ["-u", "postgres", "--", join(PG_BIN, "pg_ctl"), "-D", data, "-m", "immediate", "stop"] : ["-D", data, "-m", "immediate", "stop"]);
      rmSync(top, { recursive: true, force: true });
    },
  };
}

function timeV(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; maxRssMb: number; stdout: string } {
  const r = spawnSync("/usr/bin/time", ["-v", cmd, ...args], { encoding: "utf8", env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]) / 1024;
  const [, h, m, s] = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr)!;
  return { seconds: Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s), maxRssMb: rss, stdout: r.stdout };
}

// ------------------------------------------------------------------ child: our publisher
async function child(o: { library: string; url: string; out: string; caDer: string; config: unknown }): Promise<void> {
  const config = IssuingCaServiceConfig.parse(o.config);
  const token = await Pkcs11Token.open({ library: o.library, tokenLabel: "bench", pin: "1234", poolSize: 1 });
  const db = await openDatabase({ url: o.url, poolSize: 2 });
  const signer = await token.signer("ca", "ECDSA_P256");
  const t0 = process.hrtime.bigint();
  const p = await new CrlPublisher({ config, db, signer: hsmDigestSigner(signer), caCertificate: Buffer.from(o.caDer, "base64"), outDir: o.out, batchSize: 10_000 }).publishOnce();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ ms, entries: p.entries, size: p.size, crlNumber: p.crlNumber.toString() }));
  await db.close();
  token.close();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { entries: { type: "string", default: "1000000" } } });
  const n = Number(values.entries);
  const dir = mkdtempSync(join(tmpdir(), "bench-crl-"));
  let pg: { url: string; stop: () => void } | undefined;
  try {
    const hsm = createSoftHsmToken({ dir, tokenLabel: "bench" });
    const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: "bench", pin: hsm.pin, poolSize: 1 });
    await token.generateKeyPair("ca", "ECDSA_P256");
    const signer = await token.signer("ca", "ECDSA_P256");
    const caCert = await createCaCertificate({
      subject: "CN=Bench Issuing CA,O=MTC,C=LA",
      subjectSigner: signer,
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 3650 * 86_400_000),
      pathLength: 0,
    });
    token.close();
    const config = {
      name: "bench-ca",
      environment: "bench",
      keyAlgorithm: "ECDSA_P256",
      hsm: { library: hsm.library, tokenLabel: "bench", keyLabel: "ca", pinFile: "/nonexistent/bench-pin-unused" },
      urls: { caIssuers: "http://repo.ca.gov.la/ca.der", crl: "http://crl.ca.gov.la/ca.crl" },
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: false, responseValidityHours: 24, refreshHours: 8 },
      profiles: {},
      raClientSubject: "ra",
    };

    pg = await startPostgres();
    const db = await openDatabase({ url: pg.url });
    const t0 = Date.now();
    await db.query(
      `INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, not_before, not_after, revoked_at, revocation_reason)
       SELECT '4' || lpad(to_hex(g), 31, '0'), 'bench-ca', 'p', 'revoked', 'CN=x', '\\x00', now() - interval '30 days', now() + interval '300 days',
              date_trunc('second', now()) - interval '1 hour', (g % 5) + 1
       FROM generate_series(1, ${n}) g`,
    );
    await db.query("ANALYZE certificates");
    await db.close();
    console.log(`${n} revoked certificates loaded into PostgreSQL 15 in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // openssl: same entries in index.txt, a software key of the same algorithm
    const idx = join(dir, "index.txt");
    const ws = createWriteStream(idx);
    const rev = `${new Date(Date.now() - 3_600_000).toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`;
    for (let g = 1; g <= n; g++) {
      const line = `R\t351231000000Z\t${rev},${REASONS[(g % 5) + 1]}\t4${g.toString(16).padStart(31, "0").toUpperCase()}\tunknown\t/CN=x\n`;
      if (!ws.write(line)) await once(ws, "drain");
    }
    ws.end();
    await once(ws, "finish");
    const env = { ...process.env, OPENSSL_CONF: "/dev/null" };
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        join(dir, "ca.key"),
        "-out",
        join(dir, "ca.pem"),
        "-days",
        "30",
        "-subj",
        "/CN=Bench Issuing CA/O=MTC/C=LA",
        "-addext",
        "subjectKeyIdentifier=hash",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      { env, stdio: "ignore" },
    );
    writeFileSync(join(dir, "crlnumber"), "1000\n");
    writeFileSync(
      join(dir, "ca.cnf"),
      `[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = ${dir}\ndatabase = $dir/index.txt\ncrlnumber = $dir/crlnumber\ncertificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\ndefault_crl_days = 7\ncrl_extensions = crl_ext\nunique_subject = no\n[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n`,
    );

    const out = join(dir, "out");
    mkdirSync(out);
    const self = fileURLToPath(import.meta.url);
    const ours = timeV(process.execPath, [self, "--child", JSON.stringify({ library: hsm.library, url: pg.url, out, caDer: Buffer.from(caCert.rawData).toString("base64"), config })], { ...process.env, ...hsm.env });
    const inner = JSON.parse(ours.stdout.trim().split("\n").pop()!) as { ms: number; entries: number; size: number };
    const ossl = timeV("openssl", ["ca", "-gencrl", "-config", join(dir, "ca.cnf"), "-out", join(dir, "openssl.crl.pem")], env);
    writeFileSync(join(dir, "our-ca.pem"), toPem(Buffer.from(caCert.rawData)));
    const check = spawnSync("openssl", ["crl", "-inform", "DER", "-in", join(out, "bench-ca.crl"), "-noout", "-CAfile", join(dir, "our-ca.pem")], { encoding: "utf8" });
    console.log(`our CRL: openssl crl -CAfile ... → ${(check.stdout + check.stderr).trim()}`);
    const oursPem = statSync(join(out, "bench-ca.crl.pem")).size;
    const osslPem = statSync(join(dir, "openssl.crl.pem")).size;
    console.log(`entries ${inner.entries}; ours DER ${(inner.size / 1e6).toFixed(1)} MB + PEM ${(oursPem / 1e6).toFixed(1)} MB; openssl PEM ${(osslPem / 1e6).toFixed(1)} MB`);
    console.log(`${"".padEnd(36)} ${"seconds".padStart(8)} ${"peak RSS MB".padStart(12)}`);
    console.log(`${"ours (process, incl. node start)".padEnd(36)} ${ours.seconds.toFixed(2).padStart(8)} ${ours.maxRssMb.toFixed(0).padStart(12)}`);
    console.log(`${"ours (publishOnce only)".padEnd(36)} ${(inner.ms / 1000).toFixed(2).padStart(8)} ${"".padStart(12)}`);
    console.log(`${"openssl ca -gencrl".padEnd(36)} ${ossl.seconds.toFixed(2).padStart(8)} ${ossl.maxRssMb.toFixed(0).padStart(12)}`);
    console.log(`time ratio ours/openssl = ${(ours.seconds / ossl.seconds).toFixed(2)} (target ≤ 1), peak memory ratio = ${(ours.maxRssMb / ossl.maxRssMb).toFixed(2)} (target ≤ 1)`);
  } finally {
    pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") void child(JSON.parse(process.argv[3]));
else
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
