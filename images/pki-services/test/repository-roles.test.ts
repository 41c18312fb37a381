/**
 * The three roles as the topology runs them, as processes of dist/main.js (run `npx tsc -b`
 * first): repository (8080 + publish 8443 mTLS), ocsp-responder --serve, crl-publisher --once
 * and ocsp-responder --sign-only against SoftHSM and PostgreSQL 15.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responderCsr } from "../src/ocsp/responder-cert.js";
import { createLabTls } from "../src/lab/tls.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { freePort, tempDir, writeTlsDir } from "./helpers.js";
import { startPostgres, type PgServer } from "./pg-server.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let pg: PgServer;
let db: Database;
let issuing: IssuingCa;
const procs: ChildProcess[] = [];
let env: NodeJS.ProcessEnv;
let cfgFile: string;
let ocspCfgFile: string;
let goodFile: string;
const ports: Record<string, number> = {};

function run(cmd: string, args: string[], e: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(cmd, args, { encoding: "utf8", env: e, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })));
}
function start(args: string[]): Promise<ChildProcess> {
  const p = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  procs.push(p);
  let err = "";
  p.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    p.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes('"event":"listening"') || d.toString().includes('"event":"started"')) resolve(p);
    });
    p.once("exit", (code) => reject(new Error(`${args[0]} exited ${code}: ${err}`)));
  });
}

beforeAll(async () => {
  tmp = tempDir("roles");
  ca = await createTestCa(tmp.dir);
  pg = await startPostgres();
  db = await openDatabase({ url: pg.url });
  issuing = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 2 });
  await ca.token.generateKeyPair("ocsp-issuing-ca-1", "ECDSA_P256");
  const r = await issuing.issue({ profile: "ocsp", csr: await responderCsr(await ca.token.signer("ocsp-issuing-ca-1", "ECDSA_P256"), "CN=LANIC OCSP,O=MTC,C=LA"), validityDays: 30 }, "lanic-ra");
  writeFileSync(join(tmp.dir, "responder.pem"), r.certificate);
  const good = await issuing.issue({ profile: "ex-officio", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=MTC/title=Director/CN=Good") }, "lanic-ra");
  goodFile = join(tmp.dir, "good.pem");
  writeFileSync(goodFile, good.certificate);
  const bad = await issuing.issue({ profile: "ex-officio", csr: opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=MTC/title=Director/CN=Bad") }, "lanic-ra");
  await issuing.store.revoke(bad.serial, "keyCompromise", "lanic-ra");

  // the publish ports' server identity in the conventional mounted directory (tls.key, tls.crt, ca.crt)
  const tls = createLabTls(join(tmp.dir, "tls"));
  const serverDir = writeTlsDir(join(tmp.dir, "publish-tls"), { ...tls.server, ca: tls.ca });
  // one client identity per workload, named as the IaC names them
  const clientDir = (cn: string) => writeTlsDir(join(tmp.dir, cn), tls.client(cn));
  for (const k of ["repo", "repoPub", "ocsp", "ocspPub"]) ports[k] = await freePort();
  const config = (cn: string) => ({
    ...ca.config,
    ocsp: { ...ca.config.ocsp, responder: { hsm: { ...ca.config.hsm, keyLabel: "ocsp-issuing-ca-1" }, certificatePath: join(tmp.dir, "responder.pem") } },
    publish: { repositoryUrl: `https://127.0.0.1:${ports.repoPub}`, ocspResponderUrl: `https://127.0.0.1:${ports.ocspPub}`, clientTlsDir: clientDir(cn) },
  });
  cfgFile = join(tmp.dir, "ca-config-crl.json");
  writeFileSync(cfgFile, JSON.stringify(config("crl-publisher-issuing-ca-1")));
  ocspCfgFile = join(tmp.dir, "ca-config-ocsp.json");
  writeFileSync(ocspCfgFile, JSON.stringify(config("ocsp-signer-issuing-ca-1")));
  env = { ...process.env, ...ca.hsm.env, TEST_HSM_PIN: ca.hsm.pin, DATABASE_URL: pg.url };
  const mtls = ["--publish-tls-dir", serverDir]; // allowed clients: the defaults (crl-publisher-*, ocsp-signer-*)
  // the CA certificate the CRL is verified against, published before (here: on disk at start)
  mkdirSync(join(tmp.dir, "repo", "certs"), { recursive: true });
  writeFileSync(join(tmp.dir, "repo", "certs", "issuing-ca-1.der"), Buffer.from(ca.caCert.rawData));
  // the responder verifies pushes against the CA certificates it serves
  mkdirSync(join(tmp.dir, "ca-certs"));
  writeFileSync(join(tmp.dir, "ca-certs", "issuing-ca-1.pem"), ca.caPem);
  await start(["repository", "--base-url=http://crl.ca.gov.la", "--root", join(tmp.dir, "repo"), "--listen", `127.0.0.1:${ports.repo}`, "--publish-listen", `127.0.0.1:${ports.repoPub}`, ...mtls]);
  serveArgs = [
    "ocsp-responder",
    "--serve",
    "--listen",
    `127.0.0.1:${ports.ocsp}`,
    "--publish-listen",
    `127.0.0.1:${ports.ocspPub}`,
    "--cache-file",
    join(tmp.dir, "ocsp-cache.bin"),
    "--trust-dir",
    join(tmp.dir, "ca-certs"),
    ...mtls,
  ];
  serveProc = await start(serveArgs);
}, 120_000);
let serveArgs: string[];
let serveProc: ChildProcess;
afterAll(async () => {
  for (const p of procs) p.kill("SIGTERM");
  await issuing?.stop();
  await db?.close();
  ca?.token.close();
  pg?.stop();
  tmp?.cleanup();
});

describe("roles as processes", () => {
  it("crl-publisher --config=… --once signs with the CA key, stores the number, pushes to the repository", async () => {
    const r = await run(process.execPath, [MAIN, "crl-publisher", `--config=${cfgFile}`, "--once", "--out", join(tmp.dir, "crl-out")], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ event: "crl.published", ca: "issuing-ca-1", entries: 1, pushed: true });
    const curl = await run("curl", ["-s", "-o", join(tmp.dir, "got.crl"), "-w", "%{http_code} %{content_type}", `http://127.0.0.1:${ports.repo}/crl/issuing-ca-1.crl`]);
    expect(curl.stdout).toBe("200 application/pkix-crl");
    const v = await run("openssl", ["crl", "-inform", "DER", "-in", join(tmp.dir, "got.crl"), "-noout", "-CAfile", ca.caFile]);
    expect(v.stderr).toContain("verify OK");
  });

  it("ocsp-responder --sign-only pushes to --serve; the responder keeps answering after the signer stops", async () => {
    const signer = await start(["ocsp-responder", "--sign-only", `--config=${ocspCfgFile}`, "--poll-seconds", "1"]);
    const ask = () => run("openssl", ["ocsp", "-timeout", "10", "-url", `http://127.0.0.1:${ports.ocsp}`, "-issuer", ca.caFile, "-CAfile", ca.rootFile, "-verify_other", ca.caFile, "-cert", goodFile]);
    let r = await ask();
    for (let i = 0; i < 40 && !r.stdout.includes(": good"); i++) {
      await new Promise((s) => setTimeout(s, 250));
      r = await ask();
    }
    expect(r.stdout).toContain(`${goodFile}: good`);
    expect(r.stderr).toContain("Response verify OK");
    signer.kill("SIGTERM");
    await new Promise((s) => signer.once("exit", s));
    r = await ask();
    expect(r.stdout).toContain(`${goodFile}: good`);
    // the responder restarts while the signer is still down: it answers from its cache file
    serveProc.kill("SIGTERM");
    await new Promise((s) => serveProc.once("exit", s));
    serveProc = await start(serveArgs);
    r = await ask();
    expect(r.stdout).toContain(`${goodFile}: good`);
    expect(r.stderr).toContain("Response verify OK");
  });
});
