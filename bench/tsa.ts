/**
 * Time-stamping through the HSM, as a ratio against raw PKCS#11 signatures with the same key in
 * the same run (target ≥ 0.8), and the HTTP p99 latency at 32 connections.
 *
 *   raw     C_SignInit + C_Sign of a precomputed digest with the TSA key (the HSM's ceiling)
 *   stamp   TimeStampAuthority.stamp: parse the request, build the TSTInfo and signed
 *           attributes, sign in the HSM, verify, record the token and its audit record
 *           (PostgreSQL 15 on this machine)
 *   http    the same through the TSA's HTTP shell, 32 keep-alive connections (autocannon)
 *
 * The clock guard is replaced by a synchronised status: the bench measures signing and
 * recording, not NTP (the clock is checked every 16 s, off the request path).
 *
 * Usage: node dist/bench/tsa.js [--seconds 4] [--concurrency 32] [--alg RSA_3072]
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { KeyAlgorithm, Profile } from "@lanic-ca/pki-services/config/schema";
import { createCaCertificate, createSoftHsmToken } from "@lanic-ca/pki-services/lab/index";
import { PgNode, pgFolder } from "@lanic-ca/pki-services/lab/postgres";
import { responderCsr } from "@lanic-ca/pki-services/ocsp/responder-cert";
import { ALGORITHMS, Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import { compileProfile, issuerFromCertificate, issuerPublicKey, parseCsr, prepareCertificate, randomSerial, signCertificate } from "@lanic-ca/pki-services/pki/index";
import { openDatabase } from "@lanic-ca/pki-services/storage/db";
import { timeStampRequest } from "@lanic-ca/pki-services/tsa/protocol";
import { serveTsa } from "@lanic-ca/pki-services/tsa/server";
import { TimeStampAuthority } from "@lanic-ca/pki-services/tsa/service";
import autocannon from "autocannon";
import { report } from "./harness.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "4" }, concurrency: { type: "string", default: "32" }, alg: { type: "string", default: "RSA_3072" } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const alg = values.alg as KeyAlgorithm;

const PROFILE: Profile = {
  kind: "time-stamping",
  description: "bench",
  maxValidityDays: 365,
  allowedKeyAlgorithms: [alg],
  keyUsage: ["digitalSignature"],
  extendedKeyUsage: ["timeStamping"],
  policyOids: ["1.3.6.1.4.1.99999.1.3.3"],
  subject: { required: ["CN", "O", "C"], optional: [], countries: ["LA"] },
  subjectAltNames: { dns: false, email: false, required: false },
  ocspNoCheck: false,
};

async function rate(f: (i: number) => Promise<unknown>, secs: number): Promise<number> {
  await Promise.all(Array.from({ length: concurrency }, (_, i) => f(i))); // warm-up
  let done = 0;
  const end = performance.now() + secs * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      for (let i = lane; performance.now() < end; i += concurrency) {
        await f(i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), "bench-tsa-"));
chmodSync(dir, 0o755); // PostgreSQL runs as postgres: a mkdtemp folder is 0700
const stops: (() => void)[] = [];
const hsm = createSoftHsmToken({ dir, tokenLabel: "bench-tsa" });
const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin: hsm.pin, poolSize: 8 });
try {
  await token.generateKeyPair("ca", "ECDSA_P256");
  await token.generateKeyPair("tsa", alg);
  const caSigner = await token.signer("ca", "ECDSA_P256");
  const signer = await token.signer("tsa", alg);
  const caCert = await createCaCertificate({ subject: "CN=Bench CA,O=MTC,C=LA", subjectSigner: caSigner, notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 3650 * 86_400_000), pathLength: 0 });
  const issuer = issuerFromCertificate(Buffer.from(caCert.rawData), "ECDSA_P256", { caIssuers: "http://repo.ca.gov.la/ca.crt", crl: "http://crl.ca.gov.la/ca.crl" });
  const profile = compileProfile("time-stamping", PROFILE, issuer);
  const csr = parseCsr(await responderCsr(signer, "CN=Bench TSA,O=MTC,C=LA"));
  const certificate = await signCertificate(profile, prepareCertificate(profile, csr, { serial: randomSerial(), validityDays: 365 }), caSigner, issuerPublicKey(issuer.spki));
  // PostgreSQL 15, as production runs it (CloudNativePG): PGlite runs its WASM engine on the
  // service's own thread and would measure the embedded store, not the TSA.
  const pg = await PgNode.primary(pgFolder(join(dir, "pg")), "tsa", { archive: pgFolder(join(dir, "archive")) });
  stops.push(() => pg.stop());
  const db = await openDatabase({ url: pg.url });
  const clock = { status: () => ({ synchronised: true, accuracyMicros: 1_000_000 }) };
  const tsa = new TimeStampAuthority({ name: "bench", signer, certificate, policyOid: "1.3.6.1.4.1.99999.1.4.1", accuracy: { seconds: 1, millis: 0, micros: 0 }, clock, db });
  const requests = Array.from({ length: 256 }, () => timeStampRequest({ hash: "sha256", hashedMessage: createHash("sha256").update(randomBytes(32)).digest(), nonce: randomBytes(8), certReq: true }));
  const digest = createHash(ALGORITHMS[alg].hash).update("bench").digest();

  // Interleaved rounds so that machine noise hits both alike.
  const raws: number[] = [];
  const stamps: number[] = [];
  for (let round = 0; round < 3; round++) {
    raws.push(await rate(() => signer.signRawDigest(digest), seconds / 3));
    stamps.push(await rate((i) => tsa.stamp(requests[i % requests.length], "bench"), seconds / 3));
  }
  const raw = raws.reduce((a, b) => a + b) / raws.length;
  const stamp = stamps.reduce((a, b) => a + b) / stamps.length;
  console.log(`raw PKCS#11 ${alg} signatures: ${raw.toFixed(0)}/s; time-stamps (sign + verify + record + audit): ${stamp.toFixed(0)}/s; concurrency ${concurrency}`);
  report(`time-stamps/s vs raw signatures/s (${alg})`, stamp / raw, `${stamp.toFixed(0)} vs ${raw.toFixed(0)} per second`, { min: 0.8 });

  const server = await serveTsa(tsa, { host: "127.0.0.1", port: 0, health: async () => ({ ok: true, clock: clock.status(), hsm: { ok: true } }) });
  const load = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: 32,
    duration: Math.max(2, seconds / 2),
    method: "POST",
    headers: { "content-type": "application/timestamp-query" },
    body: requests[0],
  });
  await server.close();
  console.log(`HTTP at 32 connections: ${load.requests.average.toFixed(0)} req/s, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, non-2xx ${load.non2xx}, errors ${load.errors}`);
  const [{ n }] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM tsa_tokens");
  console.log(`tokens recorded: ${n} (each with its audit record)`);
  await db.close();
} finally {
  for (const stop of stops) stop();
  token.close();
  rmSync(dir, { recursive: true, force: true });
}
