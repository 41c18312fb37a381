/**
 * The issuing CA's certificate must cover what its profiles issue (pki/profile.ts
 * issuerCoverageProblems): a CA certificate asserting only the CP's own OID under leaves that
 * assert other OIDs leaves RFC 5280 6.1 an empty policy tree, and OpenSSL with
 * -policy_check -explicit_policy rejects every leaf. The violating fixture is refused before
 * anything is signed (the issuing CA does not start); the fixed CA verifies.
 */
import "reflect-metadata";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EKU_OIDS } from "../src/config/schema.js";
import { createCaCertificate } from "../src/lab/index.js";
import { compileProfile, issuerCoverageProblems, issuerFromCertificate, issuerPublicKey, parseCsr, prepareCertificate, randomSerial, signCertificate, toPem } from "../src/pki/index.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase } from "../src/storage/db.js";
import { createTestCa, CP_OID, opensslCsr, PROFILES, URLS, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let test: TestCa;
const certs: Record<string, Buffer> = {};
const NB = new Date(Date.now() - 86_400_000);

beforeAll(async () => {
  tmp = tempDir("coverage");
  test = await createTestCa(tmp.dir);
  const root = await test.token.signer("root", "ECDSA_P384");
  const signer = test.signer;
  const rootCert = test.rootCert;
  const tls = PROFILES["tls-server"];
  const ca = (policies: string[]) =>
    createCaCertificate({
      subject: "CN=LANIC Test Issuing CA 1,O=MTC,C=LA",
      subjectSigner: signer,
      issuer: { certificate: rootCert, signer: root },
      notBefore: NB,
      notAfter: new Date(Date.now() + 1000 * 86_400_000),
      pathLength: 0,
      policies,
      extendedKeyUsage: [EKU_OIDS.serverAuth],
    });
  // the defect: the CA asserts only the CP's own OID; the fixed CA asserts every policy of its profile
  for (const [name, policies] of [
    ["cp-only", [CP_OID]],
    ["covering", [...tls.policyOids]],
  ] as const) {
    const c = await ca([...policies]);
    certs[name] = Buffer.from(c.rawData);
    writeFileSync(join(tmp.dir, `${name}.pem`), c.toString("pem"));
    const issuer = issuerFromCertificate(certs[name], "ECDSA_P256", URLS);
    // the defective leaf is made as before the check (the CA's policies unread), to show why
    const p = compileProfile("tls-server", tls, name === "cp-only" ? { ...issuer, policies: undefined } : issuer);
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/L=Vientiane/O=MTC/CN=www.mtc.gov.la", ["subjectAltName=DNS:www.mtc.gov.la"]));
    const prepared = prepareCertificate(p, csr, { serial: randomSerial() });
    writeFileSync(join(tmp.dir, `${name}-leaf.pem`), toPem(await signCertificate(p, prepared, signer, issuerPublicKey(issuer.spki)), "CERTIFICATE"));
  }
});
afterAll(() => {
  test?.token.close();
  if (!process.env.KEEP_TMP) tmp?.cleanup();
});

const verify = (ca: string) =>
  spawnSync(
    "openssl",
    ["verify", "-x509_strict", "-policy_check", "-explicit_policy", "-policy", "2.23.140.1.2.2", "-CAfile", join(tmp.dir, "root.pem"), "-untrusted", join(tmp.dir, `${ca}.pem`), join(tmp.dir, `${ca}-leaf.pem`)],
    { encoding: "utf8" },
  );

describe("the issuing CA's certificate covers its profiles' policies (RFC 5280 6.1, BR 7.1.2.10.5)", () => {
  it("why: OpenSSL rejects a leaf whose CA does not assert its policy, and accepts it when the CA does", () => {
    const bad = verify("cp-only");
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/no explicit policy|policy/i);
    expect(verify("covering").status, verify("covering").stderr).toBe(0);
  });

  it("refuses the violating profile before anything is signed, naming the policy", () => {
    const issuer = issuerFromCertificate(certs["cp-only"], "ECDSA_P256", URLS);
    expect(issuerCoverageProblems("tls-server", PROFILES["tls-server"], issuer)).toEqual([
      `profile "tls-server" asserts 2.23.140.1.2.2, which the issuing CA's certificate does not assert (it asserts ${CP_OID}): RFC 5280 6.1.3 would leave an empty policy tree and relying parties requiring that policy reject every certificate; certify the CA with every policy its profiles assert (BR 7.1.2.10.5)`,
    ]);
    expect(issuerCoverageProblems("tls-server", PROFILES["tls-server"], issuerFromCertificate(certs.covering, "ECDSA_P256", URLS))).toEqual([]);
  });

  it("the pre-issuance lint refuses the TBS too, before anything is signed", () => {
    const issuer = issuerFromCertificate(certs["cp-only"], "ECDSA_P256", URLS);
    const p = compileProfile("tls-server", PROFILES["tls-server"], issuer);
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/L=Vientiane/O=MTC/CN=www.mtc.gov.la", ["subjectAltName=DNS:www.mtc.gov.la"]));
    expect(() => prepareCertificate(p, csr, { serial: randomSerial() })).toThrow(
      `certificatePolicies 2.23.140.1.2.2 not asserted by the issuing CA's certificate (it asserts ${CP_OID}): RFC 5280 6.1.3 would leave an empty policy tree (BR 7.1.2.10.5)`,
    );
  });

  it("refuses a profile whose EKU the CA's extendedKeyUsage does not contain; a TLS CA's own responder is allowed (BR 7.1.2.10.6)", () => {
    const issuer = issuerFromCertificate(certs.covering, "ECDSA_P256", URLS);
    expect(issuerCoverageProblems("smime", { ...PROFILES.smime, policyOids: [...PROFILES["tls-server"].policyOids] }, issuer)).toEqual([
      `profile "smime" asserts emailProtection, which the issuing CA's extendedKeyUsage does not contain (${EKU_OIDS.serverAuth}): verifiers reject the certificate (BR 7.1.2.10.6, MRSP 5.3)`,
    ]);
    expect(issuerCoverageProblems("ocsp", PROFILES.ocsp, issuer)).toEqual([]);
  });

  it("the issuing CA refuses to start with the violating CA certificate", async () => {
    const db = await openDatabase({ url: "memory://" });
    try {
      await expect(IssuingCa.start({ config: { ...test.config, profiles: { "tls-server": PROFILES["tls-server"] } }, db, pin: test.hsm.pin, caCertificate: certs["cp-only"], poolSize: 1 })).rejects.toThrow(
        /the CA certificate does not cover its profiles:\n {2}- profile "tls-server" asserts 2\.23\.140\.1\.2\.2/,
      );
    } finally {
      await db.close();
    }
  }, 60_000);
});
