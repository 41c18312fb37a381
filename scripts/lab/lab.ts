/**
 * LAB ONLY — `lanic-ca lab up|down|status`: the dev environment as a working CA on one machine
 * (docs/adr/0065-lab-on-one-machine.md). Nothing here is fit for production: the custodians'
 * shares and the HSM PINs are written into the lab folder so that the ceremonies run unattended.
 *
 * The first `up` makes the CA: SoftHSM tokens, the dev environment's key ceremonies as
 * `lanic-ca synth` renders them (with the repository and OCSP URLs on localhost), the mTLS
 * material between the services, the issuing CA's delegated OCSP responder certificate and the
 * operators' client certificates (PKCS#12), issued by the issuing CA itself. Every `up` then
 * starts the roles as processes on 127.0.0.1; `down` stops them; `status` shows what runs.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { freePort } from "@lanic-ca/pki-services/lab/ports";
import { join, resolve } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { IssuingCaServiceConfig } from "@lanic-ca/pki-services/config/schema";
import { RaServiceConfig } from "@lanic-ca/pki-services/ra/config";
import { raKinds } from "../../environments/cp.js";
import { createSoftHsmToken, findSoftHsmLibrary } from "@lanic-ca/pki-services/lab/softhsm";
import { responderCsr } from "@lanic-ca/pki-services/ocsp/responder-cert";
import { IssuingCa } from "@lanic-ca/pki-services/issuing-ca/service";
import { createLabTls } from "@lanic-ca/pki-services/lab/tls";
import { openDatabase } from "@lanic-ca/pki-services/storage/db";
import { issuingCaServiceConfig } from "../../constructs/issuing-ca.js";
import { loadEnvironment, type Environment } from "../../environments/index.js";
import { renderCeremonyFiles } from "../ceremony/render.js";
import { runCeremony } from "../ceremony/run.js";
import { LAB_STATE_FILE, readLabState, writeLabState, type LabOperator, type LabProcess, type LabState } from "./state.js";

export const DEFAULT_LAB_DIR = ".lab";

/** The trusted roles that get an operator client certificate (vetting: officer, approver,
 *  manager; the RA operator). The officer also holds an approver certificate, so that "never
 *  one's own review" can be shown (the RA counts one person whatever the role OU, ADR 0060). */
export const LAB_OPERATORS: readonly { role: string; name: string }[] = [
  { role: "vetting-officer", name: "Lab Vetting Officer" },
  { role: "vetting-approver", name: "Lab Vetting Officer" },
  { role: "vetting-approver", name: "Lab Vetting Approver" },
  { role: "vetting-manager", name: "Lab Vetting Manager" },
  { role: "ra-operator", name: "Lab RA Operator" },
];

const WARNING = `LAB ONLY — NOT FOR PRODUCTION.
This folder was made by \`lanic-ca lab up\`. It holds the HSM PINs, the custodians' shares of the
offline root's activation secret and operators' private keys in plain files, so that the dev
ceremonies run unattended on one machine. Real ceremonies never write a share or a PIN anywhere
(docs/runbooks/key-ceremony.md). Delete this folder with \`lanic-ca lab down --purge\`.
`;

const pkiMain = (): string => fileURLToPath(import.meta.resolve("@lanic-ca/pki-services/main"));
/** Beside this file in dist/scripts/lab/. */
const ISSUING_ZONE = new URL("./lab-issuing-zone.js", import.meta.url);

const openssl = (args: string[], cwd?: string): string => execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OPENSSL_CONF: "/dev/null" } });

const secret = (): string => randomBytes(12).toString("base64url");

function writeSecret(dir: string, name: string, value: string): void {
  writeFileSync(join(dir, "secrets", name), `${value}\n`, { mode: 0o600 });
}

function pemBody(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`no ${label} in PEM`);
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/** The dev environment with the URLs certificates carry pointing at the lab's localhost ports. */
export function labEnvironment(ports: LabState["ports"]): Environment {
  const env = loadEnvironment("dev");
  const library = findSoftHsmLibrary();
  if (env.rootOfTrust.type !== "offline") throw new Error("the dev environment must have an offline root");
  return {
    ...env,
    hsm: { ...env.hsm, pkcs11Library: library },
    rootOfTrust: { ...env.rootOfTrust, hsm: { ...env.rootOfTrust.hsm, pkcs11Library: library } },
    repository: { ...env.repository, baseUrl: `http://127.0.0.1:${ports.repository}` },
    va: { ...env.va, url: `http://127.0.0.1:${ports.ocsp}` },
  };
}

type Say = (line: string) => void;

/** Runs the rendered ceremonies in order, the custodians' typing supplied from the lab's secrets. */
async function runCeremonies(dir: string, env: Environment, pins: { rootSo: string; online: string }, say: Say): Promise<void> {
  const cdir = join(dir, "ceremonies");
  mkdirSync(cdir, { recursive: true });
  const files = renderCeremonyFiles(env);
  for (const f of files) writeFileSync(join(cdir, f.path), f.content);
  let shares: string[] = [];
  for (const f of files
    .filter((x) => x.path.endsWith(".yaml"))
    .map((x) => x.path)
    .sort()) {
    const type = /^type: (\S+)$/m.exec(readFileSync(join(cdir, f), "utf8"))?.[1];
    // Key backup and restore need the security officer at the HSM and a loss to restore from: the
    // lab does not run them (the continuity drill restores keys from a backup, ADR 0081).
    if (type === "key-backup" || type === "key-restore") continue;
    const lines = type === "quorum-split" ? [pins.rootSo, "", "", "", "", "", ""] : type === "issuing-ca-key" ? [pins.online] : shares.slice(0, 2);
    let screen = "";
    const out = new PassThrough();
    out.on("data", (d: Buffer) => (screen += d.toString()));
    try {
      await runCeremony({ file: join(cdir, f), input: Readable.from(lines.map((l) => `${l}\n`)), output: out, participants: [{ role: "system-auditor", name: "lanic-ca lab up (unattended, LAB ONLY)" }] });
    } catch (err) {
      throw new Error(`ceremony ${f}: ${(err as Error).message}\n${stripAnsi(screen).split("\n").slice(-15).join("\n")}`);
    }
    if (type === "quorum-split") {
      shares = [...stripAnsi(screen).matchAll(new RegExp(`(${env.name}/[a-z0-9-]+:[0-9a-f-]+:[0-9a-f]{8})`, "g"))].map((m) => m[1]);
      if (shares.length < 2) throw new Error(`ceremony ${f}: the shares were not shown`);
      writeSecret(dir, "custodian-shares-LAB-ONLY.txt", `# LAB ONLY — NOT FOR PRODUCTION: shares of the dev offline root's activation secret\n${shares.join("\n")}`);
    }
    say(`  ceremony ${f}: succeeded`);
  }
}

function tlsDir(path: string, files: { key: Buffer; cert: Buffer; ca: Buffer }): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "tls.key"), files.key, { mode: 0o600 });
  writeFileSync(join(path, "tls.crt"), files.cert);
  writeFileSync(join(path, "ca.crt"), files.ca);
  return path;
}

/** First `up`, first part: tokens, ceremonies, repository files, TLS, the CA configuration. */
async function makeCa(dir: string, say: Say): Promise<MadeCa> {
  for (const d of ["secrets", "softhsm", "logs", "db", "repository/certs", "repository/crl", "operators", "crl-out"]) mkdirSync(join(dir, d), { recursive: true, mode: d === "secrets" ? 0o700 : 0o755 });
  writeFileSync(join(dir, "README-LAB-ONLY-NOT-FOR-PRODUCTION.txt"), WARNING);
  const ports = {
    repository: await freePort(),
    repositoryPublish: await freePort(),
    ocsp: await freePort(),
    ocspPublish: await freePort(),
    issuingCa: await freePort(),
    raBackend: await freePort(),
    raApplicant: await freePort(),
    raConsole: await freePort(),
  };
  const env = labEnvironment(ports);
  const issuing = env.issuingCas[0];
  const partition = env.hsm.partitions.find((p) => p.name === issuing.partition)!;
  if (env.rootOfTrust.type !== "offline") throw new Error("unreachable");

  say("SoftHSM tokens (LAB ONLY: PINs in secrets/)");
  const pins = { rootTransport: secret(), rootSo: secret(), online: secret(), onlineSo: secret() };
  const softhsm = join(dir, "softhsm");
  createSoftHsmToken({ dir: softhsm, tokenLabel: env.rootOfTrust.hsm.tokenLabel, pin: pins.rootTransport, soPin: pins.rootSo });
  createSoftHsmToken({ dir: softhsm, tokenLabel: partition.tokenLabel, pin: pins.online, soPin: pins.onlineSo });
  writeSecret(dir, "hsm-so-pin-dev-root", pins.rootSo);
  writeSecret(dir, `hsm-pin-${partition.name}`, pins.online);
  writeSecret(dir, `hsm-so-pin-${partition.name}`, pins.onlineSo);

  say("Key ceremonies of the dev environment, unattended (LAB ONLY: shares in secrets/)");
  await runCeremonies(dir, env, { rootSo: pins.rootSo, online: pins.online }, say);
  const cdir = join(dir, "ceremonies");
  const rootName = env.rootOfTrust.name;
  const rootCert = join(cdir, `${rootName}.crt.pem`);
  const issuingCaCert = join(cdir, `${issuing.name}.crt.pem`);
  const chain = join(dir, "chain.pem");
  writeFileSync(chain, readFileSync(issuingCaCert, "utf8") + readFileSync(rootCert, "utf8"));
  // The repository serves the CA certificates at their AIA URLs and the root's CRL at its CDP.
  writeFileSync(join(dir, "repository/certs", `${rootName}.der`), pemBody(readFileSync(rootCert, "utf8"), "CERTIFICATE"));
  writeFileSync(join(dir, "repository/certs", `${issuing.name}.der`), pemBody(readFileSync(issuingCaCert, "utf8"), "CERTIFICATE"));
  // The OCSP responder verifies every pushed response against the CA certificates it serves.
  mkdirSync(join(dir, "ca-certs"), { recursive: true });
  writeFileSync(join(dir, "ca-certs", `${issuing.name}.pem`), readFileSync(issuingCaCert));
  writeFileSync(join(dir, "repository/crl", `${rootName}.crl`), pemBody(readFileSync(join(cdir, `${rootName}.crl.pem`), "utf8"), "X509 CRL"));

  say("mTLS between the services (a lab CA made with openssl)");
  const tls = createLabTls(join(dir, "tls"));
  writeFileSync(join(dir, "tls", "server.key"), tls.server.key, { mode: 0o600 });
  writeFileSync(join(dir, "tls", "server.pem"), tls.server.cert);
  writeFileSync(join(dir, "tls", "ca.pem"), tls.ca);
  const config0 = issuingCaServiceConfig({ env }, issuing);
  for (const cn of [`crl-publisher-${issuing.name}`, `ocsp-signer-${issuing.name}`, config0.raClientSubject]) tlsDir(join(dir, "tls", cn), tls.client(cn));

  // The RA: backend (RA zone) and its frontends (applicant pages at the edge, operator console).
  const operatorCa = readFileSync(issuingCaCert, "utf8") + readFileSync(rootCert, "utf8");
  const raBackendTls = tlsDir(join(dir, "tls", "ra-backend-server"), { key: tls.server.key, cert: tls.server.cert, ca: Buffer.from(tls.ca.toString() + operatorCa) });
  tlsDir(join(dir, "tls", "ra-frontend-server"), { key: tls.server.key, cert: tls.server.cert, ca: Buffer.from(operatorCa) });
  tlsDir(join(dir, "tls", "ra-frontend"), tls.client("ra-frontend"));
  const raConfig = RaServiceConfig.parse({
    environment: env.name,
    issuingCa: { url: `https://127.0.0.1:${ports.issuingCa}`, clientTlsDir: join(dir, "tls", config0.raClientSubject) },
    tlsDir: raBackendTls,
    frontendClients: ["ra-frontend"],
    operatorPolicyOid: env.profiles["operator-client"].policyOids[0],
    // the kinds the lab's one issuing CA issues (TLS comes from the dev TLS CA, ADR 0070)
    kinds: raKinds(Object.fromEntries(issuing.profiles.map((p) => [p, env.profiles[p]]))),
    bulkUploadMaxRows: env.ra.bulkUploadMaxRows,
    // CP/CPS 5.5.2: records kept 7 years (lab: the folder is thrown away anyway).
    evidence: { retentionDays: 2557 },
  });
  writeFileSync(join(dir, "ra-config.json"), `${JSON.stringify(raConfig, null, 2)}\n`);

  const ocspCert = join(dir, `ocsp-${issuing.name}.pem`);
  const config: IssuingCaServiceConfig = {
    ...config0,
    hsm: { ...config0.hsm, pinFile: join(dir, "secrets", `hsm-pin-${partition.name}`) },
    ocsp: { ...config0.ocsp, responder: { ...config0.ocsp.responder!, hsm: { ...config0.ocsp.responder!.hsm, pinFile: join(dir, "secrets", `hsm-pin-${partition.name}`) }, certificatePath: ocspCert } },
    publish: { repositoryUrl: `https://127.0.0.1:${ports.repositoryPublish}`, ocspResponderUrl: `https://127.0.0.1:${ports.ocspPublish}`, clientTlsDir: join(dir, "tls", `ocsp-signer-${issuing.name}`) },
    caCertificatePath: issuingCaCert,
  };
  const caConfig = join(dir, "ca-config.json");
  writeFileSync(caConfig, `${JSON.stringify(config, null, 2)}\n`);
  const caDatabase = join(dir, "db", "ca");
  const state: LabState = {
    version: 1,
    environment: env.name,
    issuingCa: issuing.name,
    createdAt: new Date().toISOString(),
    ports,
    files: { caConfig, caDatabase, rootCert, issuingCaCert, chain, raClientTls: join(dir, "tls", config.raClientSubject) },
    operators: [],
    processes: [],
  };
  return { state, config, pin: pins.online, ocspCert, ocspKey: { label: issuing.ocsp.keyLabel, subject: `CN=${issuing.subject.CN} OCSP Responder,O=${issuing.subject.O},C=${issuing.subject.C}` } };
}

/** First `up`, second part (while the repository and the responder start): the issuing CA
 *  issues its delegated OCSP responder certificate and the operators' client certificates. */
async function issueLabCertificates(dir: string, made: MadeCa, say: Say): Promise<LabState> {
  const { state, config, pin, ocspCert } = made;
  const { caDatabase, issuingCaCert, chain } = state.files;
  say("Issuing CA: the delegated OCSP responder certificate and the operators' client certificates");
  const operators: LabOperator[] = [];
  const db = await openDatabase({ url: caDatabase });
  const ca = await IssuingCa.start({
    config,
    db,
    pin,
    caCertificate: pemBody(readFileSync(issuingCaCert, "utf8"), "CERTIFICATE"),
    poolSize: 2,
    // Verify-after-sign on this thread: the pool's worker is unreferenced, and with no server
    // holding the event loop open here, awaiting it would let the process exit (code 13).
    verifyThreads: 0,
  });
  try {
    // The CA's own session pool: a second Pkcs11Token on the slot would close its sessions
    // when closed (C_CloseAllSessions is per slot and process).
    const key = made.ocspKey.label;
    const alg = config.ocsp.responder!.keyAlgorithm ?? config.keyAlgorithm;
    await ca.token.generateKeyPair(key, alg);
    const csr = await responderCsr(await ca.token.signer(key, alg), made.ocspKey.subject);
    writeFileSync(ocspCert, (await ca.issue({ profile: "ocsp-signing", csr, validityDays: 90 }, config.raClientSubject)).certificate);
    const password = secret();
    writeSecret(dir, "operator-p12-password", password);
    for (const [i, op] of LAB_OPERATORS.entries()) {
      const base = join(dir, "operators", `${String(i + 1).padStart(2, "0")}-${op.role}`);
      openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${base}.key`]);
      const csr = execFileSync("openssl", ["req", "-new", "-utf8", "-key", `${base}.key`, "-subj", `/C=LA/O=LANIC (development)/OU=${op.role}/CN=${op.name}`, "-sha256"], {
        encoding: "utf8",
        env: { ...process.env, OPENSSL_CONF: "/dev/null" },
      });
      const r = await ca.issue({ profile: "operator-client", csr }, config.raClientSubject);
      writeFileSync(`${base}.pem`, r.certificate);
      openssl(["pkcs12", "-export", "-inkey", `${base}.key`, "-in", `${base}.pem`, "-certfile", chain, "-name", op.name, "-passout", `pass:${password}`, "-out", `${base}.p12`]);
      operators.push({ role: op.role, name: op.name, p12: `${base}.p12`, serial: r.serial });
    }
  } finally {
    await ca.stop();
    await db.close();
  }
  const done: LabState = { ...state, operators };
  writeLabState(dir, done);
  return done;
}

interface MadeCa {
  readonly state: LabState;
  readonly config: IssuingCaServiceConfig;
  readonly pin: string;
  readonly ocspCert: string;
  readonly ocspKey: { readonly label: string; readonly subject: string };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The process is still ours: its command line names this lab folder (a pid may be reused). */
function ours(p: LabProcess, dir: string): boolean {
  if (!alive(p.pid)) return false;
  try {
    return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** Waits for a line of the log that says the service is up; fails with the log's end if it exits. */
async function waitReady(p: LabProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const text = existsSync(p.log) ? readFileSync(p.log, "utf8") : "";
    if (pattern.test(text)) return;
    if (!alive(p.pid)) throw new Error(`${p.name} exited while starting; the end of ${p.log}:\n${text.split("\n").slice(-12).join("\n")}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${p.name} did not start within ${timeoutMs / 1000} s (see ${p.log})`);
}

function startProcess(dir: string, name: string, args: string[], env: NodeJS.ProcessEnv, url?: string): LabProcess {
  const log = join(dir, "logs", `${name}.log`);
  const fd = openSync(log, "a");
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  child.unref();
  return { name, pid: child.pid!, log, ...(url ? { url } : {}) };
}

export interface LabUpResult {
  readonly dir: string;
  readonly created: boolean;
  readonly state: LabState;
}

/** `lab up`: makes the CA at the first call, then starts every role; returns what runs. */
export async function labUp(dirArg = DEFAULT_LAB_DIR, say: Say = () => undefined): Promise<LabUpResult> {
  const dir = resolve(dirArg);
  const created = !existsSync(join(dir, LAB_STATE_FILE));
  if (created && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new LabError(`${dir} exists but holds no finished lab (no ${LAB_STATE_FILE}: an earlier \`lab up\` stopped half-way?); delete it (rm -rf ${dir}) and run \`lanic-ca lab up\` again`);
  }
  if (!created) {
    const running = readLabState(dir).processes.filter((p) => ours(p, dir));
    if (running.length) throw new LabError(`the lab in ${dir} is already running (${running.map((p) => `${p.name} pid ${p.pid}`).join(", ")}); \`lanic-ca lab status\` shows it, \`lanic-ca lab down\` stops it`);
  }
  if (!created) say(`Lab in ${dir} (made ${readLabState(dir).createdAt}): starting it`);
  const made = created ? await makeCa(dir, say) : undefined;
  let state = made ? made.state : readLabState(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, SOFTHSM2_CONF: join(dir, "softhsm", "softhsm2.conf") };
  const tls = ["--tls-key", join(dir, "tls", "server.key"), "--tls-cert", join(dir, "tls", "server.pem"), "--client-ca", join(dir, "tls", "ca.pem")];
  const main = pkiMain();
  const started: LabProcess[] = [];
  const ready: [LabProcess, RegExp][] = [];
  const add = (p: LabProcess, re: RegExp) => {
    started.push(p);
    ready.push([p, re]);
  };
  try {
    // The public zone needs no CA database: it starts while the CA issues the lab's certificates.
    add(
      startProcess(
        dir,
        "repository",
        [
          main,
          "repository",
          "--base-url",
          `http://127.0.0.1:${state.ports.repository}`,
          "--root",
          join(dir, "repository"),
          "--listen",
          `127.0.0.1:${state.ports.repository}`,
          "--publish-listen",
          `127.0.0.1:${state.ports.repositoryPublish}`,
          ...tls,
        ],
        env,
        `http://127.0.0.1:${state.ports.repository}`,
      ),
      /"event":"listening"/,
    );
    add(
      startProcess(
        dir,
        "ocsp-responder",
        [
          main,
          "ocsp-responder",
          "--serve",
          "--listen",
          `127.0.0.1:${state.ports.ocsp}`,
          "--publish-listen",
          `127.0.0.1:${state.ports.ocspPublish}`,
          "--cache-file",
          join(dir, "ocsp-cache.bin"),
          "--trust-dir",
          join(dir, "ca-certs"),
          ...tls,
        ],
        env,
        `http://127.0.0.1:${state.ports.ocsp}`,
      ),
      /"mode":"publish"/,
    );
    if (made) state = await issueLabCertificates(dir, made, say);
    for (const [p, re] of ready.splice(0)) await waitReady(p, re);
    // The issuing zone pushes to both at once: started after them.
    add(startProcess(dir, "issuing-zone", [fileURLToPath(ISSUING_ZONE), dir], env, `https://127.0.0.1:${state.ports.issuingCa}`), /"event":"started"/);
    // The RA backend (its own PGlite store) and its two frontends, as `pki-services ra` runs them.
    const p = state.ports;
    add(
      startProcess(dir, "ra-backend", [main, "ra", "--backend", "--config", join(dir, "ra-config.json"), "--db", join(dir, "db", "ra"), "--listen", `127.0.0.1:${p.raBackend}`], env, `https://127.0.0.1:${p.raBackend}`),
      /"role":"ra"/,
    );
    const frontend = (name: string, exposure: string, port: number) =>
      add(
        startProcess(
          dir,
          name,
          [
            main,
            "ra",
            "--frontend",
            "--exposure",
            exposure,
            "--listen",
            `127.0.0.1:${port}`,
            "--backend-url",
            `https://127.0.0.1:${p.raBackend}`,
            "--tls-dir",
            join(dir, "tls", "ra-frontend-server"),
            "--backend-tls-dir",
            join(dir, "tls", "ra-frontend"),
            "--chain-file",
            state.files.chain,
            "--bulk-max-rows",
            String(loadEnvironment(state.environment).ra.bulkUploadMaxRows),
          ],
          env,
          `https://127.0.0.1:${port}`,
        ),
        /"role":"ra-frontend"/,
      );
    frontend("ra-applicant", "applicant", p.raApplicant);
    frontend("ra-console", "operator", p.raConsole);
    for (const [proc, re] of ready.splice(0)) await waitReady(proc, re, 180_000);
  } catch (err) {
    for (const p of started) if (alive(p.pid)) process.kill(p.pid, "SIGTERM");
    throw err;
  }
  state.processes = started;
  writeLabState(dir, state);
  return { dir, created, state };
}

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabError";
  }
}

/** `lab down`: SIGTERM to each process the lab started (and only those), SIGKILL after 10 s;
 *  with `purge`, the lab folder (keys, PINs, shares, database) is deleted afterwards. */
export async function labDown(dirArg = DEFAULT_LAB_DIR, o: { purge?: boolean } = {}): Promise<{ stopped: string[]; purged: boolean }> {
  const dir = resolve(dirArg);
  if (!existsSync(join(dir, LAB_STATE_FILE))) return { stopped: [], purged: false };
  const state = readLabState(dir);
  const running = state.processes.filter((p) => ours(p, dir));
  for (const p of running) process.kill(p.pid, "SIGTERM");
  const end = Date.now() + 10_000;
  while (running.some((p) => alive(p.pid)) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  for (const p of running) if (alive(p.pid)) process.kill(p.pid, "SIGKILL");
  state.processes = [];
  writeLabState(dir, state);
  if (o.purge) rmSync(dir, { recursive: true, force: true });
  return { stopped: running.map((p) => p.name), purged: Boolean(o.purge) };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
    s.setTimeout(1000, () => {
      s.destroy();
      res(false);
    });
  });
}

export interface LabStatus {
  readonly dir: string;
  readonly exists: boolean;
  readonly services: { name: string; pid: number; running: boolean; url?: string; listening?: boolean; log: string }[];
}

/** `lab status`: each process the lab started, whether it runs and whether its port answers. */
export async function labStatus(dirArg = DEFAULT_LAB_DIR): Promise<LabStatus> {
  const dir = resolve(dirArg);
  if (!existsSync(join(dir, LAB_STATE_FILE))) return { dir, exists: false, services: [] };
  const state = readLabState(dir);
  const services = await Promise.all(
    state.processes.map(async (p) => {
      const running = ours(p, dir);
      const port = p.url ? Number(new URL(p.url).port) : undefined;
      return { name: p.name, pid: p.pid, running, ...(p.url ? { url: p.url } : {}), ...(port ? { listening: running && (await portOpen(port)) } : {}), log: p.log };
    }),
  );
  return { dir, exists: true, services };
}

/** What a newcomer does next, printed by `lab up`. */
export function nextSteps(r: LabUpResult): string {
  const s = r.state;
  const rel = (p: string) => p;
  const ra = s.processes.filter((p) => p.name.startsWith("ra-"));
  return [
    "",
    `LAB ONLY — NOT FOR PRODUCTION: PINs, shares and operator keys are plain files in ${r.dir}`,
    "",
    "Running:",
    ...s.processes.map((p) => `  ${p.name.padEnd(16)} ${p.url ?? ""}   (pid ${p.pid}, log ${rel(p.log)})`),
    "",
    "Trust anchors:",
    `  root CA            ${rel(s.files.rootCert)}`,
    `  chain (CA + root)  ${rel(s.files.chain)}`,
    "",
    `Operator client certificates (PKCS#12, password in ${join(r.dir, "secrets", "operator-p12-password")}):`,
    ...s.operators.map((o) => `  ${o.role.padEnd(18)} ${o.name.padEnd(22)} ${rel(o.p12)}`),
    "",
    "Next:",
    ...(ra.length
      ? [
          `  1. apply at https://127.0.0.1:${s.ports.raApplicant}/ (the lab TLS CA is ${join(r.dir, "tls", "ca.pem")}: accept it or import it);`,
          `     vet at https://127.0.0.1:${s.ports.raConsole}/console with an operator .p12 imported into the browser;`,
          `     the approver's page shows the enrollment code: enroll at https://127.0.0.1:${s.ports.raApplicant}/enroll`,
        ]
      : [
          "  1. issue with the RA's client identity, e.g.",
          `     curl --cacert ${join(r.dir, "tls", "ca.pem")} --cert ${join(s.files.raClientTls, "tls.crt")} --key ${join(s.files.raClientTls, "tls.key")} \\`,
          `       -H 'content-type: application/json' -d '{"profile":"operator-client","csr":"<PEM with \\n>"}' https://127.0.0.1:${s.ports.issuingCa}/v1/certificates`,
        ]),
    `  2. verify: openssl verify -CAfile ${rel(s.files.rootCert)} -untrusted ${rel(s.files.issuingCaCert)} cert.pem`,
    `  3. status: openssl ocsp -url http://127.0.0.1:${s.ports.ocsp} -issuer ${rel(s.files.issuingCaCert)} -CAfile ${rel(s.files.rootCert)} -cert cert.pem`,
    `  4. CRL:    curl -s http://127.0.0.1:${s.ports.repository}/crl/${s.issuingCa}.crl | openssl crl -inform DER -noout -text`,
    "  lanic-ca lab status   shows what runs;   lanic-ca lab down   stops it (the CA is kept for the next `lab up`)",
  ].join("\n");
}
