/**
 * The browser-side key, CSR and PKCS#12 code (src/ra/web/browser/pkcs.ts) run on Node's
 * WebCrypto and checked by openssl: the CSR's signature, the PKCS#12 opened with the password
 * (key matching the certificate, chain present), refused with a wrong one. The same module runs
 * in Chromium in test/browser.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPkcs12, createCsr, generateKeyPair, type BrowserKeyAlgorithm } from "../src/ra/web/browser/pkcs.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
const env = { ...process.env, OPENSSL_CONF: "/dev/null" };
const openssl = (args: string[], input?: string) => spawnSync("openssl", args, { cwd: tmp.dir, encoding: "utf8", env, input });

beforeAll(() => {
  tmp = tempDir("ra-web-pkcs");
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
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=Test CA/O=MTC/C=LA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    ],
    { cwd: tmp.dir, env, stdio: "ignore" },
  );
});
afterAll(() => tmp?.cleanup());

describe("browser key, CSR and PKCS#12 (checked by openssl)", () => {
  for (const alg of ["ECDSA_P256", "RSA_3072"] as BrowserKeyAlgorithm[]) {
    it(`${alg}: the CSR verifies; the PKCS#12 opens with the password, its key matches the certificate, the chain is in it`, async () => {
      const keys = await generateKeyPair(alg);
      const csr = await createCsr(keys, alg, "ສົມຊາຍ applicant");
      writeFileSync(join(tmp.dir, "req.pem"), csr);
      const v = openssl(["req", "-in", "req.pem", "-noout", "-verify", "-subject", "-nameopt", "utf8"]);
      expect(v.stderr + v.stdout).toMatch(/verify OK|Certificate request self-signature verify OK/);
      expect(v.stdout).toContain("CN=ສົມຊາຍ applicant");
      expect(openssl(["x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "1", "-out", "leaf.pem"]).status).toBe(0);
      const p12 = await buildPkcs12({
        privateKey: keys.privateKey,
        certificate: openssl(["x509", "-in", "leaf.pem"]).stdout,
        chain: openssl(["x509", "-in", "ca.pem"]).stdout,
        password: "correct horse ພາສາລາວ",
        friendlyName: "ສົມຊາຍ (test)",
        iterations: 10_000,
      });
      writeFileSync(join(tmp.dir, "out.p12"), p12);
      const info = openssl(["pkcs12", "-in", "out.p12", "-passin", "pass:correct horse ພາສາລາວ", "-info", "-nodes", "-out", "all.pem"]);
      expect(info.status, info.stderr).toBe(0);
      expect(info.stderr).toContain("MAC: sha256");
      expect(info.stderr).toContain("PBES2, PBKDF2, AES-256-CBC");
      const pub = (args: string[]) => openssl(args).stdout;
      expect(pub(["pkey", "-in", "all.pem", "-pubout"])).toBe(pub(["x509", "-in", "leaf.pem", "-noout", "-pubkey"]));
      const certs = openssl(["pkcs12", "-in", "out.p12", "-passin", "pass:correct horse ພາສາລາວ", "-nokeys"]).stdout;
      expect(certs.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
      expect(certs).toContain("subject=CN = Test CA, O = MTC, C = LA");
      const wrong = openssl(["pkcs12", "-in", "out.p12", "-passin", "pass:wrong password", "-noout"]);
      expect(wrong.status).not.toBe(0);
      expect(wrong.stderr).toContain("Mac verify error");
    }, 60_000);
  }

  it("refuses a short password and an unknown key algorithm", async () => {
    const keys = await generateKeyPair("ECDSA_P256");
    await expect(buildPkcs12({ privateKey: keys.privateKey, certificate: "", chain: "", password: "short", friendlyName: "x" })).rejects.toThrow("the PKCS#12 password must have at least 8 characters");
    await expect(generateKeyPair("DSA_1024" as BrowserKeyAlgorithm)).rejects.toThrow("key algorithm DSA_1024 is not one of ECDSA_P256, ECDSA_P384, RSA_3072");
  });
});
