/**
 * Dev, lab and tests only: the mTLS material of the publish port (8443) made with openssl — a
 * throwaway CA, a server certificate for 127.0.0.1/localhost and client certificates. In
 * production these come from the operator-client profile of the CA itself.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface LabTls {
  readonly ca: Buffer;
  readonly server: { key: Buffer; cert: Buffer };
  client(cn: string): { key: Buffer; cert: Buffer; ca: Buffer };
}

export function createLabTls(dir: string): LabTls {
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, OPENSSL_CONF: "/dev/null" };
  const run = (args: string[]) => execFileSync("openssl", args, { env, stdio: "pipe" });
  const f = (n: string) => join(dir, n);
  run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("publish-ca.key"),
    "-out",
    f("publish-ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=lab publish CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  const leaf = (name: string, cn: string, ext: string) => {
    run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${cn}`]);
    execFileSync("sh", ["-c", 'printf "%s\\n" "$1" > "$2"', "sh", ext, f(`${name}.ext`)]);
    run(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("publish-ca.pem"), "-CAkey", f("publish-ca.key"), "-CAcreateserial", "-days", "2", "-out", f(`${name}.pem`), "-extfile", f(`${name}.ext`)]);
    return { key: readFileSync(f(`${name}.key`)), cert: readFileSync(f(`${name}.pem`)) };
  };
  const server = leaf("publish-server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  const ca = readFileSync(f("publish-ca.pem"));
  return {
    ca,
    server,
    client: (cn) => ({ ...leaf(`client-${cn}`, cn, "extendedKeyUsage=clientAuth"), ca }),
  };
}
