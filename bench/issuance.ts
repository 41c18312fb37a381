/**
 * Issuance speed through the HSM, as a ratio against raw PKCS#11 signatures with the same key
 * in the same run (issue 3: target ≥ 0.8). One worker process per core (each with its own
 * PKCS#11 sessions; C_Sign runs on the libuv pool), same concurrency for both measurements.
 *
 *   raw      C_SignInit + C_Sign of a precomputed digest (the HSM's ceiling)
 *   issue    lint the request against the profile, build and lint the TBS, sign in the HSM,
 *            verify the signature and the TBS bytes, assemble the DER  (CSR parsed once)
 *   +csr     the same plus parsing the CSR and checking its signature (proof of possession)
 *
 * Usage: node dist/bench/issuance.js [--seconds 6] [--workers N] [--concurrency 16]
 * (seconds per mode, split in 3 interleaved rounds)
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createSoftHsmToken, Pkcs11Token, ALGORITHMS } from "@lanic-ca/pki-services/pkcs11/index";
import { compileProfile, createCaCertificate, issuerFromCertificate, issuerPublicKey, parseCsr, prepareCertificate, randomSerial, signCertificate } from "@lanic-ca/pki-services/pki/index";
import type { KeyAlgorithm, Profile } from "@lanic-ca/pki-services/config/schema";

const PROFILE: Profile = {
  kind: "organisation-signing", description: "bench", maxValidityDays: 365,
  allowedKeyAlgorithms: ["ECDSA_P256", "RSA_2048", "RSA_3072"], keyUsage: ["digitalSignature", "nonRepudiation"],
  extendedKeyUsage: ["documentSigning"], policyOids: ["1.3.6.1.4.1.99999.1.1", "1.3.6.1.4.1.99999.1.2.2"],
  subject: { required: ["CN", "O", "organizationIdentifier", "C"], optional: ["L"], countries: ["LA"] },
  subjectAltNames: { dns: false, email: false, required: false }, ocspNoCheck: false,
};
const URLS = { caIssuers: "http://repo.ca.gov.la/ca1.crt", crl: "http://crl.ca.gov.la/ca1.crl", ocsp: "http://ocsp.ca.gov.la" };
const PIN = "1234";
const TOKEN = "bench";
type Mode = "raw" | "issue" | "+csr";

interface Job { mode: Mode; label: string; alg: KeyAlgorithm; seconds: number; concurrency: number; caDer: string; csrs: string[] }

// ------------------------------------------------------------------ worker
async function worker(): Promise<void> {
  const library = process.env.BENCH_LIBRARY!;
  const token = await Pkcs11Token.open({ library, tokenLabel: TOKEN, pin: PIN, poolSize: Number(process.env.BENCH_SESSIONS ?? 8) });
  process.on("message", async (job: Job | "exit") => {
    if (job === "exit") {
      token.close();
      process.exit(0);
    }
    const signer = await token.signer(job.label, job.alg);
    const issuer = issuerFromCertificate(Buffer.from(job.caDer, "base64"), job.alg, URLS);
    const profile = compileProfile("bench", PROFILE, issuer);
    const key = issuerPublicKey(issuer.spki);
    const parsed = job.csrs.map((c) => parseCsr(c));
    const digest = createHash(ALGORITHMS[job.alg].hash).update("bench").digest();
    const once: Record<Mode, (i: number) => Promise<unknown>> = {
      raw: () => signer.signRawDigest(digest),
      issue: (i) => signCertificate(profile, prepareCertificate(profile, parsed[i % parsed.length], { serial: randomSerial() }), signer, key),
      "+csr": (i) => signCertificate(profile, prepareCertificate(profile, parseCsr(job.csrs[i % job.csrs.length]), { serial: randomSerial() }), signer, key),
    };
    // warm-up
    await Promise.all(Array.from({ length: job.concurrency }, (_, i) => once[job.mode](i)));
    let done = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(job.seconds * 1e9);
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: job.concurrency }, async (_, lane) => {
        let i = lane;
        while (process.hrtime.bigint() < deadline) {
          await once[job.mode](i);
          i += job.concurrency;
          done++;
        }
      }),
    );
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    process.send!({ done, secs, cpuSecs: (cpu.user + cpu.system) / 1e6 });
  });
  process.send!("ready");
}

// ------------------------------------------------------------------ parent
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "6" }, workers: { type: "string" }, concurrency: { type: "string", default: "16" } } });
  const seconds = Number(values.seconds);
  const nWorkers = Number(values.workers ?? availableParallelism());
  const concurrency = Number(values.concurrency);
  const dir = mkdtempSync(join(tmpdir(), "bench-issuance-"));
  try {
    const hsm = createSoftHsmToken({ dir, tokenLabel: TOKEN, pin: PIN });
    const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: TOKEN, pin: PIN, poolSize: 2 });
    await token.generateKeyPair("root", "ECDSA_P384");
    const root = await token.signer("root", "ECDSA_P384");
    const rootCert = await createCaCertificate({ subject: "CN=Bench Root,O=MTC,C=LA", subjectSigner: root, notBefore: new Date("2025-01-01"), notAfter: new Date("2040-01-01"), pathLength: 1 });
    const cas: Record<string, string> = {};
    for (const alg of ["ECDSA_P256", "RSA_3072"] as const) {
      await token.generateKeyPair(alg, alg);
      const s = await token.signer(alg, alg);
      const c = await createCaCertificate({ subject: `CN=Bench Issuing ${alg},O=MTC,C=LA`, subjectSigner: s, issuer: { certificate: rootCert, signer: root }, notBefore: new Date("2025-01-01"), notAfter: new Date("2035-01-01"), pathLength: 0 });
      cas[alg] = Buffer.from(c.rawData).toString("base64");
    }
    token.close();
    const key = join(dir, "subscriber.pem");
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    const csrs = Array.from({ length: 8 }, (_, i) =>
      execFileSync("openssl", ["req", "-new", "-utf8", "-key", key, "-subj", `/C=LA/O=ບໍລິສັດ ທົດລອງ ${i}/organizationIdentifier=MTC-LIC-${1000 + i}/CN=ບໍລິສັດ ທົດລອງ ${i}`], { env: { ...process.env, OPENSSL_CONF: "/dev/null" } }).toString(),
    );

    // Started one after the other: SoftHSM reads the token files at C_Initialize.
    const workers: ChildProcess[] = [];
    for (let i = 0; i < nWorkers; i++) {
      workers.push(
        await new Promise<ChildProcess>((resolve, reject) => {
          const w = fork(fileURLToPath(import.meta.url), ["--worker"], { env: { ...process.env, ...hsm.env, BENCH_LIBRARY: hsm.library } });
          w.once("message", () => resolve(w));
          w.once("exit", (code) => reject(new Error(`bench worker exited with ${code}`)));
        }),
      );
    }
    const run = async (job: Job) => {
      const rs = await Promise.all(workers.map((w) => new Promise<{ done: number; secs: number; cpuSecs: number }>((resolve) => {
        w.once("message", (m) => resolve(m as { done: number; secs: number; cpuSecs: number }));
        w.send(job);
      })));
      return { rate: rs.reduce((a, r) => a + r.done / r.secs, 0), cpu: rs.reduce((a, r) => a + r.cpuSecs / r.secs, 0) };
    };
    console.log(`issuance bench: ${nWorkers} worker processes × ${concurrency} in flight, ${seconds}s per measurement, SoftHSM2 ${hsm.library}`);
    console.log(`${"issuer key".padEnd(12)} ${"raw sig/s".padStart(10)} ${"issue/s".padStart(10)} ${"ratio".padStart(6)} ${"+csr/s".padStart(10)} ${"ratio".padStart(6)}   (process CPU cores busy: raw / issue / +csr)`);
    for (const alg of ["ECDSA_P256", "RSA_3072"] as const) {
      const base = { label: alg, alg, seconds, concurrency, caDer: cas[alg], csrs };
      // Interleaved rounds, so load from other processes on a shared machine hits all three alike.
      const rounds = 3;
      const acc = { raw: { rate: 0, cpu: 0 }, issue: { rate: 0, cpu: 0 }, "+csr": { rate: 0, cpu: 0 } };
      for (let r = 0; r < rounds; r++) {
        for (const mode of ["raw", "issue", "+csr"] as const) {
          const m = await run({ ...base, seconds: base.seconds / rounds, mode });
          acc[mode].rate += m.rate / rounds;
          acc[mode].cpu += m.cpu / rounds;
        }
      }
      const { raw, issue } = acc;
      const full = acc["+csr"];
      console.log(
        `${alg.padEnd(12)} ${raw.rate.toFixed(0).padStart(10)} ${issue.rate.toFixed(0).padStart(10)} ${(issue.rate / raw.rate).toFixed(2).padStart(6)} ${full.rate.toFixed(0).padStart(10)} ${(full.rate / raw.rate).toFixed(2).padStart(6)}   (${raw.cpu.toFixed(2)} / ${issue.cpu.toFixed(2)} / ${full.cpu.toFixed(2)})`,
      );
    }
    for (const w of workers) w.send("exit");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--worker")) void worker();
else void main();
