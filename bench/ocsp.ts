/**
 * OCSP responder speed (issue 7): requests/s and p99 latency on loopback with autocannon, at 8
 * and 32 connections, against two references measured in the same run over the same data:
 *
 *   ours      `ocsp-responder --serve` code (ResponseCache + ocspHandler) in one process,
 *             answering from responses pre-signed by the HSM (SoftHSM) responder key
 *   openssl   `openssl ocsp -index … -port …` (signs every response, software key)
 *   ceiling   a minimal node HTTP server returning a fixed body of the same size (one process)
 *
 * Targets: ≥ 3× openssl, ≥ 0.7× ceiling, p99 ≤ 5 ms at 32 connections.
 * Usage: node dist/bench/ocsp.js [--seconds 5] [--certs 1000]
 * Each server runs in its own process; the load generator runs in this one (2 cores: one each).
 */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createSoftHsmToken, Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import { compileProfile, createCaCertificate, issuerFromCertificate, issuerPublicKey, parseCsr, prepareCertificate, signCertificate, toPem } from "@lanic-ca/pki-services/pki/index";
import { hsmDigestSigner } from "@lanic-ca/pki-services/crl/digest-signer";
import { issuerHashes, ocspResponse, publicKeyBits, responseData } from "@lanic-ca/pki-services/ocsp/protocol";
import { responderCsr } from "@lanic-ca/pki-services/ocsp/responder-cert";
import { ResponseCache, serveOcsp } from "@lanic-ca/pki-services/ocsp/server";
import type { Profile } from "@lanic-ca/pki-services/config/schema";

interface AutocannonResult { requests: { average: number }; latency: { p99: number; p50: number }; errors: number; non2xx: number; timeouts: number }
type Autocannon = (o: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const URLS = { caIssuers: "http://repo.ca.gov.la/ca1.der", crl: "http://crl.ca.gov.la/ca1.crl", ocsp: "http://ocsp.ca.gov.la" };
const OCSP_PROFILE: Profile = {
  kind: "ocsp-signing", description: "bench responder", maxValidityDays: 30, allowedKeyAlgorithms: ["ECDSA_P256"], keyUsage: ["digitalSignature"],
  extendedKeyUsage: ["ocspSigning"], policyOids: ["1.3.6.1.4.1.99999.1.1"], subject: { required: ["CN", "O", "C"], optional: [], countries: ["LA"] },
  subjectAltNames: { dns: false, email: false, required: false }, ocspNoCheck: true,
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A closed-loop client (node http, keep-alive when the server allows it): `openssl ocsp` answers
 *  HTTP/1.0 and closes every connection, which autocannon does not count, so the openssl ratio
 *  is measured with this client for both servers. */
async function closedLoop(port: number, body: Buffer, connections: number, seconds: number): Promise<{ rps: number; p99: number; errors: number; n: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const lat: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const one = () => new Promise<void>((resolve) => {
    const t = process.hrtime.bigint();
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", agent, headers: { "content-type": "application/ocsp-request", "content-length": body.length } }, (res) => {
      res.on("data", () => undefined);
      res.on("end", () => { lat.push(Number(process.hrtime.bigint() - t) / 1e6); resolve(); });
    });
    req.on("error", () => { errors++; resolve(); });
    req.end(body);
  });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: connections }, async () => { while (Date.now() < end) await one(); }));
  const elapsed = (Date.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / elapsed, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, errors, n: lat.length };
}

/** CPU seconds used so far by a process (utime + stime from /proc, Linux). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** Measures `fn` and the server's CPU time during it: requests per server-CPU-second does not
 *  depend on the load generator or on other load on the machine. */
async function withCpu<T extends { n: number }>(pid: number, fn: () => Promise<T>): Promise<T & { perCpuSecond: number }> {
  const c0 = cpuSeconds(pid);
  const r = await fn();
  const c = cpuSeconds(pid) - c0;
  return { ...r, perCpuSecond: c > 0 ? r.n / c : 0 };
}

// ------------------------------------------------------------------ children
async function child(kind: string, port: number, file: string): Promise<void> {
  if (kind === "ours") {
    const cache = new ResponseCache();
    cache.putAll(readFileSync(file));
    await serveOcsp(cache, { host: "127.0.0.1", port });
  } else {
    const body = readFileSync(file);
    http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      req.on("data", () => undefined);
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/ocsp-response", "content-length": body.length });
        res.end(body);
      });
    }).listen(port, "127.0.0.1");
  }
  process.send?.("ready");
}

// ------------------------------------------------------------------ main
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" }, certs: { type: "string", default: "1000" } } });
  const seconds = Number(values.seconds);
  const n = Number(values.certs);
  const dir = mkdtempSync(join(tmpdir(), "bench-ocsp-"));
  const procs: ChildProcess[] = [];
  try {
    // CA and delegated responder keys in SoftHSM; responder certificate through the CA's profile.
    const hsm = createSoftHsmToken({ dir, tokenLabel: "bench" });
    const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: "bench", pin: hsm.pin, poolSize: 8 });
    await token.generateKeyPair("ca", "ECDSA_P256");
    await token.generateKeyPair("responder", "ECDSA_P256");
    const caSigner = await token.signer("ca", "ECDSA_P256");
    const rSigner = await token.signer("responder", "ECDSA_P256");
    const caCert = await createCaCertificate({ subject: "CN=Bench Issuing CA,O=MTC,C=LA", subjectSigner: caSigner, notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 365 * 86_400_000), pathLength: 0 });
    const caDer = Buffer.from(caCert.rawData);
    const issuer = issuerFromCertificate(caDer, "ECDSA_P256", URLS);
    const profile = compileProfile("ocsp", OCSP_PROFILE, issuer);
    const prepared = prepareCertificate(profile, parseCsr(await responderCsr(rSigner, "CN=Bench OCSP,O=MTC,C=LA")), { serial: Buffer.from("4000000000000000000000000000ffff", "hex") });
    const responderDer = await signCertificate(profile, prepared, caSigner, issuerPublicKey(issuer.spki));

    // Same data for both responders: n certificates, every 10th revoked.
    const serials = Array.from({ length: n }, (_, i) => `4${(i + 1).toString(16).padStart(31, "0")}`);
    const ds = hsmDigestSigner(rSigner);
    const hashes = issuerHashes("sha1", issuer.subjectDer, issuer.spki);
    const rkh = createHash("sha1").update(publicKeyBits(rSigner.spki)).digest();
    const thisUpdate = new Date(Math.floor(Date.now() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + 24 * 3_600_000);
    const revokedAt = new Date(thisUpdate.getTime() - 3_600_000);
    const t0 = Date.now();
    const responses = await Promise.all(serials.map(async (s, i) => {
      const status = i % 10 === 9 ? { status: "revoked" as const, revokedAt, reason: 1 } : { status: "good" as const };
      const tbs = responseData({ hash: "sha1", ...hashes, serial: Buffer.from(s, "hex"), status, thisUpdate, nextUpdate, responderKeyHash: rkh });
      return ocspResponse(tbs, ds.signatureAlgorithm, await ds.signDigest(createHash("sha256").update(tbs).digest()), [responderDer]);
    }));
    const presignMs = Date.now() - t0;
    writeFileSync(join(dir, "responses.bin"), Buffer.concat(responses));
    token.close();

    // openssl's files: CA cert, a software responder key + cert issued by openssl with the same profile, index.
    const caPem = join(dir, "ca.pem");
    writeFileSync(caPem, toPem(caDer));
    const rKey = join(dir, "ossl-responder.key");
    const rPem = join(dir, "ossl-responder.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", rKey, "-out", rPem, "-days", "2", "-subj", "/CN=Bench OCSP openssl", "-addext", "extendedKeyUsage=OCSPSigning"], { env: { ...process.env, OPENSSL_CONF: "/dev/null" }, stdio: "ignore" });
    const exp = "351231000000Z";
    const rev = "261101000000Z";
    writeFileSync(join(dir, "index.txt"), serials.map((s, i) => (i % 10 === 9 ? `R\t${exp}\t${rev},keyCompromise\t${s.toUpperCase()}\tunknown\t/CN=c${i}` : `V\t${exp}\t\t${s.toUpperCase()}\tunknown\t/CN=c${i}`)).join("\n") + "\n");

    // One request for a good serial, no nonce (the same bytes to all three servers).
    const certFile = join(dir, "req.der");
    execFileSync("openssl", ["ocsp", "-issuer", caPem, "-serial", `0x${serials[0]}`, "-no_nonce", "-reqout", certFile], { stdio: "ignore" });
    const body = readFileSync(certFile);
    const ours = responses[0];
    writeFileSync(join(dir, "fixed.bin"), ours);
    const self = fileURLToPath(import.meta.url);

    const startNode = async (kind: string, file: string) => {
      const port = await freePort();
      const p = fork(self, ["--child", kind, String(port), file], { stdio: "inherit" });
      procs.push(p);
      await new Promise<void>((r) => p.once("message", () => r()));
      return { port, proc: p };
    };
    const startOpenssl = async () => {
      const port = await freePort();
      const p = spawn("openssl", ["ocsp", "-index", join(dir, "index.txt"), "-port", String(port), "-rsigner", rPem, "-rkey", rKey, "-CA", caPem, "-ndays", "1"], { stdio: "ignore" });
      procs.push(p);
      await new Promise((r) => setTimeout(r, 500));
      return { port, proc: p };
    };

    // sanity: both answer "good" for the request
    const servers = { ours: await startNode("ours", join(dir, "responses.bin")), openssl: await startOpenssl(), ceiling: await startNode("ceiling", join(dir, "fixed.bin")) };
    for (const [name, s] of Object.entries(servers)) {
      const r = await fetch(`http://127.0.0.1:${s.port}/`, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body });
      const b = Buffer.from(await r.arrayBuffer());
      const off = 2 + (b[1] & 0x80 ? b[1] & 0x7f : 0);
      if (r.status !== 200 || b[off] !== 0x0a || b[off + 2] !== 0) throw new Error(`${name}: no successful OCSP response (HTTP ${r.status}, ${b.subarray(0, 8).toString("hex")})`);
    }

    const run = (port: number, connections: number, duration = seconds): Promise<AutocannonResult> =>
      autocannon({ url: `http://127.0.0.1:${port}/`, method: "POST", headers: { "content-type": "application/ocsp-request" }, body, connections, duration, pipelining: 1 });
    console.log(`OCSP responder, loopback, POST of a ${body.length}-byte request, ${ours.length}-byte response, ${n} certificates (pre-signed in ${presignMs} ms by SoftHSM); ${seconds} s per run`);
    console.log("autocannon (keep-alive):");
    console.log(`${"conns".padEnd(6)} ${"server".padEnd(8)} ${"req/s".padStart(9)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"errors".padStart(7)}`);
    const table: Record<string, Record<number, AutocannonResult>> = { ours: {}, ceiling: {} };
    for (const c of [8, 32]) {
      for (const name of ["ours", "ceiling"] as const) {
        await run(servers[name].port, c, 1); // warm-up (JIT, connections), not counted
        const r = await run(servers[name].port, c);
        table[name][c] = r;
        console.log(`${String(c).padEnd(6)} ${name.padEnd(8)} ${r.requests.average.toFixed(0).padStart(9)} ${r.latency.p50.toFixed(2).padStart(7)} ${r.latency.p99.toFixed(2).padStart(7)} ${String(r.errors + r.non2xx + r.timeouts).padStart(7)}`);
      }
    }
    console.log("closed-loop node client (the same client for both; openssl closes each connection):");
    const vsO: Record<number, { ours: number; openssl: number; p99o: number; p99s: number; cpuO: number; cpuS: number }> = {};
    for (const c of [8, 32]) {
      await closedLoop(servers.openssl.port, body, c, 1);
      const o = await withCpu(servers.ours.proc.pid!, () => closedLoop(servers.ours.port, body, c, seconds));
      const s2 = await withCpu(servers.openssl.proc.pid!, () => closedLoop(servers.openssl.port, body, c, seconds));
      vsO[c] = { ours: o.rps, openssl: s2.rps, p99o: o.p99, p99s: s2.p99, cpuO: o.perCpuSecond, cpuS: s2.perCpuSecond };
      console.log(`${String(c).padEnd(6)} ${"ours".padEnd(8)} ${o.rps.toFixed(0).padStart(9)} ${"".padStart(7)} ${o.p99.toFixed(2).padStart(7)} ${String(o.errors).padStart(7)}   ${o.perCpuSecond.toFixed(0)} req per server CPU-second`);
      console.log(`${String(c).padEnd(6)} ${"openssl".padEnd(8)} ${s2.rps.toFixed(0).padStart(9)} ${"".padStart(7)} ${s2.p99.toFixed(2).padStart(7)} ${String(s2.errors).padStart(7)}   ${s2.perCpuSecond.toFixed(0)} req per server CPU-second`);
    }
    console.log("");
    for (const c of [8, 32]) {
      const vsCeiling = table.ours[c].requests.average / table.ceiling[c].requests.average;
      console.log(`@${c}: ours/openssl = ${(vsO[c].ours / vsO[c].openssl).toFixed(2)}x by throughput, ${(vsO[c].cpuO / vsO[c].cpuS).toFixed(2)}x per server CPU-second (target ≥ 3)  ours/ceiling = ${vsCeiling.toFixed(2)} (target ≥ 0.7)  p99 ours = ${table.ours[c].latency.p99.toFixed(2)} ms (autocannon)${c === 32 ? " (target ≤ 5)" : ""}`);
    }
  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") void child(process.argv[3], Number(process.argv[4]), process.argv[5]);
else main().then(() => process.exit(0), (err: Error) => { console.error(err); process.exit(1); });
