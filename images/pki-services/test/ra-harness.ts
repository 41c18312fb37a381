/**
 * Test PKI and harness for the RA: certificates made by `openssl` (a test service CA, server and
 * client identities, operator-client certificates whose OU values are RA roles), an RA backend
 * on PGlite or PostgreSQL, and an HTTPS client that speaks as the frontend, an operator or an
 * applicant.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { raKinds, CP_PROFILES } from "../../../environments/cp.js";
import { AuditLog } from "../src/audit/log.js";
import { clientCertHeader, pemCertificates } from "../src/ra/auth.js";
import { CaClient } from "../src/ra/ca-client.js";
import { RaServiceConfig, type RaServiceConfigInput } from "../src/ra/config.js";
import { buildRaBackend } from "../src/ra/http.js";
import { RA_MIGRATIONS } from "../src/ra/migrations.js";
import { RaService } from "../src/ra/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { writeTlsDir } from "./helpers.js";

export const OPERATOR_POLICY = "2.16.418.1.1.3.1";

export interface Identity {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly keyFile: string;
  readonly certFile: string;
}

export interface RaPki {
  readonly caFile: string;
  readonly caPem: Buffer;
  readonly raServer: Identity;
  readonly caServer: Identity;
  readonly frontend: Identity;
  readonly raClient: Identity;
  readonly officer: Identity;
  readonly approver: Identity;
  /** The officer's second certificate, with the approver role: the same person. */
  readonly officerAsApprover: Identity;
  readonly manager: Identity;
  readonly raOperator: Identity;
  readonly noPolicy: Identity;
  readonly rogue: Identity;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { env: { ...process.env, OPENSSL_CONF: "/dev/null" }, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCert(dir: string, name: string, subj: string, ext: string[], issuer?: { certFile: string; keyFile: string }): Identity {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
  openssl([
    "req",
    "-new",
    "-x509",
    "-utf8",
    "-key",
    keyFile,
    "-subj",
    subj,
    "-days",
    "2",
    "-sha256",
    "-out",
    certFile,
    ...(issuer ? ["-CA", issuer.certFile, "-CAkey", issuer.keyFile] : []),
    ...ext.flatMap((e) => ["-addext", e]),
  ]);
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
}

const CA_EXT = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"];
const SERVER_EXT = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth,clientAuth", "subjectAltName=IP:127.0.0.1"];
const CLIENT_EXT = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"];
const OPERATOR_EXT = [...CLIENT_EXT, `certificatePolicies=${OPERATOR_POLICY}`];

export function makeRaPki(dir: string): RaPki {
  const ca = makeCert(dir, "service-ca", "/C=LA/O=LANIC/CN=LANIC test service CA", CA_EXT);
  const rogueCa = makeCert(dir, "rogue-ca", "/C=LA/O=LANIC/CN=LANIC test service CA", CA_EXT);
  const op = (name: string, subj: string, ext = OPERATOR_EXT, issuer = ca) => makeCert(dir, name, subj, ext, issuer);
  return {
    caFile: ca.certFile,
    caPem: ca.cert,
    raServer: op("ra-server", "/C=LA/O=LANIC/CN=ra", SERVER_EXT),
    caServer: op("ca-server", "/C=LA/O=LANIC/CN=issuing-ca-1", SERVER_EXT),
    frontend: op("frontend", "/C=LA/O=LANIC/CN=ra-frontend", SERVER_EXT),
    raClient: op("ra-client", "/C=LA/O=LANIC/CN=lanic-ra", CLIENT_EXT),
    officer: op("officer", "/C=LA/O=MTC/OU=vetting-officer/CN=ສົມໃຈ ພົມມະຈັນ"),
    approver: op("approver", "/C=LA/O=MTC/OU=vetting-approver/CN=Khamla Vongsa"),
    officerAsApprover: op("officer-approver", "/C=LA/O=MTC/OU=vetting-approver/CN=ສົມໃຈ ພົມມະຈັນ"),
    manager: op("manager", "/C=LA/O=MTC/OU=vetting-manager/CN=Bounmy Sayasone"),
    raOperator: op("ra-operator", "/C=LA/O=MTC/OU=ra-operator/CN=Noy Keomany"),
    noPolicy: op("no-policy", "/C=LA/O=MTC/OU=vetting-approver/CN=Someone Else", CLIENT_EXT),
    rogue: op("rogue", "/C=LA/O=MTC/OU=vetting-approver/CN=Khamla Vongsa", OPERATOR_EXT, rogueCa),
  };
}

/** The RA configuration of the tests: the CP's kinds (environments/cp.ts) and this PKI. */
export function raConfig(pki: RaPki, dir: string, caUrl: string, over: Partial<RaServiceConfigInput> = {}): RaServiceConfig {
  const tlsDir = writeTlsDir(join(dir, "ra-tls"), { key: pki.raServer.key, cert: pki.raServer.cert, ca: pki.caPem });
  const clientTlsDir = writeTlsDir(join(dir, "ra-client"), { key: pki.raClient.key, cert: pki.raClient.cert, ca: pki.caPem });
  return RaServiceConfig.parse({
    environment: "test",
    issuingCa: { url: caUrl, clientTlsDir },
    tlsDir,
    frontendClients: ["ra-frontend"],
    operatorPolicyOid: OPERATOR_POLICY,
    kinds: raKinds(CP_PROFILES),
    bulkUploadMaxRows: 10_000,
    evidence: { retentionDays: 2557 },
    ...over,
  });
}

export interface RunningRa {
  readonly service: RaService;
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly port: number;
  close(): Promise<void>;
}

export async function startRa(config: RaServiceConfig, dbUrl = "memory://"): Promise<RunningRa> {
  const db = await openDatabase({ url: dbUrl, migrations: RA_MIGRATIONS });
  const audit = new AuditLog(db);
  const ca = CaClient.fromDir(config.issuingCa.url, config.issuingCa.clientTlsDir);
  const service = new RaService({ config, db, audit, ca });
  const tls = { key: readFileSync(join(config.tlsDir, "tls.key")), cert: readFileSync(join(config.tlsDir, "tls.crt")), ca: readFileSync(join(config.tlsDir, "ca.crt")) };
  const app = await buildRaBackend(service, tls);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return {
    service,
    app,
    db,
    port,
    close: async () => {
      await app.close();
      ca.close();
      await db.close();
    },
  };
}

export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Who speaks: the frontend forwarding an operator's certificate, the frontend for an applicant
 *  (optionally with an access token), or a client with its own certificate. */
export type Speaker = { as: "operator"; who: Identity } | { as: "applicant"; token?: string } | { as: "direct"; who: Identity } | { as: "none" };

export function raCall<T = Record<string, any>>(pki: RaPki, port: number, speaker: Speaker, method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply<T>> {
  const client = speaker.as === "direct" ? speaker.who : speaker.as === "none" ? undefined : pki.frontend;
  const headers: Record<string, string> = { ...extraHeaders };
  if (speaker.as === "operator") headers["client-cert"] = clientCertHeader(pemCertificates(speaker.who.cert.toString())[0]);
  if (speaker.as === "applicant" && speaker.token) headers.authorization = `Bearer ${speaker.token}`;
  let data: Buffer | undefined;
  if (Buffer.isBuffer(body)) data = body;
  else if (typeof body === "string") data = Buffer.from(body);
  else if (body !== undefined) {
    data = Buffer.from(JSON.stringify(body));
    headers["content-type"] ??= "application/json";
  }
  if (data) headers["content-length"] = String(data.length);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, method, path, headers, ca: pki.caPem, key: client?.key, cert: client?.cert, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown = {};
        try {
          json = JSON.parse(text);
        } catch {
          /* text */
        }
        resolve({ status: res.statusCode ?? 0, body: json as T, text, headers: res.headers });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}

/** Audit records of the RA store, in order. */
export async function auditRecords(db: Database): Promise<{ event: string; actor: string; details: Record<string, any> }[]> {
  return db.query(`SELECT event, actor, details FROM audit_log ORDER BY seq`);
}
