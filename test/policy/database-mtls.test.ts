/**
 * LCA-NET-07's database ends are real: the pg_hba lines and the client environment the constructs
 * synthesize, run on PostgreSQL 15 with pki-services' own openDatabase. The role's certificate
 * (CN = the role) and password log in; no certificate, another role's certificate, or no TLS at
 * all are refused by the server.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase } from "@lanic-ca/pki-services/storage/db";
import { DATABASE_CLIENT_TLS_DIR } from "../../constructs/database.js";
import { startPostgres, type PgServer } from "../../images/pki-services/test/pg-server.js";
import { tempDir } from "../../images/pki-services/test/helpers.js";
import { build, cleanup, resourceAt } from "./fixtures.js";

const ROLE = "ra_rw";
const PASSWORD = "test-only-password";
let pg: PgServer;
let tmp: ReturnType<typeof tempDir>;
/** The RA's literal environment as synthesized, its client directory moved to `tmp`. */
let libpqEnv: [string, string][];

beforeAll(async () => {
  tmp = tempDir("lanic-db-mtls-");
  chmodSync(tmp.dir, 0o755);
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: tmp.dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-subj", "/CN=Test database CA", "-days", "2", "-out", "ca.crt"]);
  const sign = (name: string, cn: string, ext: string) => {
    openssl(["req", "-new", ...ec, "-keyout", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`]);
    writeFileSync(join(tmp.dir, `${name}.ext`), ext);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
  };
  sign("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  sign("client", ROLE, "extendedKeyUsage=clientAuth\n");
  sign("other", "issuing_rw", "extendedKeyUsage=clientAuth\n");

  // What synth writes: the RA store's pg_hba and TLS floor, and the RA's libpq environment.
  const b = build("production");
  const spec = resourceAt(b, "production/production-lanic/ra-database/cluster").manifest.spec;
  const container = resourceAt(b, "production/production-lanic/registration-authority/service/deployment").spec.template.spec.container[0];
  cleanup();
  const clientDir = join(tmp.dir, "db-client");
  mkdirSync(clientDir);
  for (const [from, to] of [
    ["client.crt", "tls.crt"],
    ["client.key", "tls.key"],
    ["ca.crt", "ca.crt"],
  ])
    copyFileSync(join(tmp.dir, from), join(clientDir, to));
  libpqEnv = (container.env as { name: string; value?: string }[]).filter((e) => e.name.startsWith("PGSSL") && e.value !== undefined).map((e) => [e.name, e.value!.replace(DATABASE_CLIENT_TLS_DIR, clientDir)]);
  expect(libpqEnv.map(([n]) => n).sort()).toEqual(["PGSSLCERT", "PGSSLKEY", "PGSSLMODE", "PGSSLROOTCERT"]);

  const read = (f: string) => readFileSync(join(tmp.dir, f), "utf8");
  pg = await startPostgres({
    files: { "server.crt": read("server.crt"), "server.key": read("server.key"), "client-ca.crt": read("ca.crt") },
    settings: ["ssl=on", "ssl_cert_file=server.crt", "ssl_key_file=server.key", "ssl_ca_file=client-ca.crt", `ssl_min_protocol_version=${spec.postgresql.parameters.ssl_min_protocol_version}`],
    hba: spec.postgresql.pg_hba,
  });
  const admin = await openDatabase({ url: pg.socketUrl, migrate: false });
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
  await admin.close();
}, 120_000);

afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(() => {
  pg?.stop();
  tmp?.cleanup();
});

const roleUrl = () => pg.url.replace("postgres@", `${ROLE}:${PASSWORD}@`).replace(/\/postgres$/, "/postgres");
async function login(env: [string, string][], url = roleUrl()): Promise<string> {
  for (const [n, v] of env) vi.stubEnv(n, v);
  const db = await openDatabase({ url, migrate: false, poolSize: 1 });
  try {
    const [row] = await db.query<{ user: string; ssl: boolean }>("SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    return `${row.user} ssl=${row.ssl}`;
  } finally {
    await db.close();
  }
}

describe("the synthesized database mTLS on PostgreSQL 15", () => {
  it("logs the role in with its client certificate and password, over TLS", async () => {
    expect(await login(libpqEnv)).toBe(`${ROLE} ssl=true`);
  });
  it("refuses a TLS login without a client certificate", async () => {
    await expect(login(libpqEnv.filter(([n]) => n !== "PGSSLCERT" && n !== "PGSSLKEY"))).rejects.toThrow(/certificate/i);
  });
  it("refuses a certificate of another role (clientcert=verify-full: CN = the role)", async () => {
    const other = libpqEnv.map(([n, v]): [string, string] => [n, n === "PGSSLCERT" ? join(tmp.dir, "other.crt") : n === "PGSSLKEY" ? join(tmp.dir, "other.key") : v]);
    await expect(login(other)).rejects.toThrow(/certificate authentication failed|authentication failed/i);
  });
  it("refuses a connection without TLS", async () => {
    await expect(login([], `${roleUrl()}?sslmode=disable`)).rejects.toThrow(/no encryption|pg_hba\.conf rejects/i);
  });
});
