/** Shared test fixtures: profiles like the environments define, a SoftHSM token holding a root
 *  and an issuing CA key, and CSRs made by `openssl req`. */
import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { X509Certificate } from "@peculiar/x509";
import { IssuingCaServiceConfig, type KeyAlgorithm, type Profile } from "../src/config/schema.js";
import { createCaCertificate, createSoftHsmToken, type SoftHsmToken } from "../src/lab/index.js";
import { Pkcs11Token, type Pkcs11Signer } from "../src/pkcs11/index.js";
import { compileProfile, issuerFromCertificate, type CompiledProfile } from "../src/pki/index.js";

export const CP_OID = "1.3.6.1.4.1.99999.1.1";

export const PROFILES: Record<string, Profile> = {
  "ex-officio": {
    kind: "ex-officio-signing",
    description: "Government position signing",
    maxValidityDays: 365,
    allowedKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384", "RSA_3072"],
    keyUsage: ["digitalSignature", "nonRepudiation"],
    extendedKeyUsage: ["documentSigning", "emailProtection"],
    policyOids: [CP_OID, "1.3.6.1.4.1.99999.1.2.1"],
    subject: { required: ["CN", "title", "O", "C"], optional: ["OU", "E"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: true, required: false },
    ocspNoCheck: false,
  },
  organisation: {
    kind: "organisation-signing",
    description: "Licensed company signing",
    maxValidityDays: 365,
    allowedKeyAlgorithms: ["ECDSA_P256", "RSA_2048", "RSA_3072"],
    keyUsage: ["digitalSignature", "nonRepudiation"],
    extendedKeyUsage: ["documentSigning"],
    policyOids: [CP_OID, "1.3.6.1.4.1.99999.1.2.2"],
    subject: { required: ["CN", "O", "organizationIdentifier", "C"], optional: ["L", "ST"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: false, required: false },
    ocspNoCheck: false,
  },
  "tls-server": {
    kind: "tls-server",
    description: "TLS server",
    maxValidityDays: 100,
    allowedKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384", "RSA_2048", "RSA_3072"],
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: ["serverAuth"],
    policyOids: ["2.23.140.1.2.2", CP_OID],
    subject: { required: ["O", "L", "C"], optional: ["CN", "ST"], countries: ["LA"] },
    subjectAltNames: { dns: true, email: false, required: true },
    ocspNoCheck: false,
  },
  smime: {
    kind: "smime",
    description: "S/MIME",
    maxValidityDays: 365,
    allowedKeyAlgorithms: ["ECDSA_P256", "RSA_2048", "RSA_3072"],
    keyUsage: ["digitalSignature", "keyEncipherment"],
    extendedKeyUsage: ["emailProtection"],
    policyOids: ["2.23.140.1.5.3.3", CP_OID],
    subject: { required: ["CN"], optional: ["O", "C", "E"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: true, required: true },
    ocspNoCheck: false,
  },
  operator: {
    kind: "operator-client",
    description: "Trusted-role operator mTLS",
    maxValidityDays: 365,
    allowedKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384"],
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: ["clientAuth"],
    policyOids: [CP_OID],
    subject: { required: ["CN", "O", "C"], optional: ["OU"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: false, required: false },
    ocspNoCheck: false,
  },
  ocsp: {
    kind: "ocsp-signing",
    description: "Delegated OCSP responder",
    maxValidityDays: 30,
    allowedKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384"],
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: ["ocspSigning"],
    policyOids: [],
    subject: { required: ["CN", "O", "C"], optional: [], countries: ["LA"] },
    subjectAltNames: { dns: false, email: false, required: false },
    ocspNoCheck: true,
  },
};

export const URLS = { caIssuers: "http://repo.ca.gov.la/issuing-ca-1.crt", crl: "http://crl.ca.gov.la/issuing-ca-1.crl", ocsp: "http://ocsp.ca.gov.la" };

export interface TestCa {
  readonly hsm: SoftHsmToken;
  readonly token: Pkcs11Token;
  readonly signer: Pkcs11Signer;
  readonly rootCert: X509Certificate;
  readonly caCert: X509Certificate;
  readonly rootPem: string;
  readonly caPem: string;
  readonly rootFile: string;
  readonly caFile: string;
  readonly profiles: Record<string, CompiledProfile>;
  readonly config: IssuingCaServiceConfig;
}

/** A SoftHSM token in `dir` with a root (P-384) and an issuing-CA key, and their certificates. */
export async function createTestCa(dir: string, keyAlgorithm: KeyAlgorithm = "ECDSA_P256", opts: { poolSize?: number } = {}): Promise<TestCa> {
  const hsm = createSoftHsmToken({ dir, tokenLabel: "lanic-issuing" });
  const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin: hsm.pin, poolSize: opts.poolSize ?? 4 });
  await token.generateKeyPair("root", "ECDSA_P384");
  await token.generateKeyPair("issuing-ca-1", keyAlgorithm);
  const rootSigner = await token.signer("root", "ECDSA_P384");
  const signer = await token.signer("issuing-ca-1", keyAlgorithm);
  const nb = new Date("2025-01-01T00:00:00Z");
  const rootCert = await createCaCertificate({ subject: "CN=LANIC Test Root CA,O=MTC,C=LA", subjectSigner: rootSigner, notBefore: nb, notAfter: new Date("2040-01-01T00:00:00Z"), pathLength: 1 });
  const caCert = await createCaCertificate({
    subject: "CN=LANIC Test Issuing CA 1,O=MTC,C=LA",
    subjectSigner: signer,
    issuer: { certificate: rootCert, signer: rootSigner },
    notBefore: nb,
    notAfter: new Date("2035-01-01T00:00:00Z"),
    pathLength: 0,
  });
  const rootPem = `${rootCert.toString("pem")}\n`;
  const caPem = `${caCert.toString("pem")}\n`;
  const rootFile = join(dir, "root.pem");
  const caFile = join(dir, "issuing-ca.pem");
  writeFileSync(rootFile, rootPem);
  writeFileSync(caFile, caPem);
  const issuer = issuerFromCertificate(Buffer.from(caCert.rawData), keyAlgorithm, URLS);
  const profiles = Object.fromEntries(Object.entries(PROFILES).map(([n, p]) => [n, compileProfile(n, p, issuer)]));
  // the partition's PIN as the mounted Secret file the services read it from
  const pinFile = join(dir, "hsm-pin");
  writeFileSync(pinFile, `${hsm.pin}\n`, { mode: 0o400 });
  const config = IssuingCaServiceConfig.parse({
    name: "issuing-ca-1",
    environment: "test",
    keyAlgorithm,
    hsm: { library: hsm.library, tokenLabel: hsm.tokenLabel, keyLabel: "issuing-ca-1", pinFile },
    urls: URLS,
    crl: { intervalHours: 24, nextUpdateHours: 168 },
    ocsp: { enabled: true, responseValidityHours: 24, refreshHours: 8 },
    profiles: PROFILES,
    raClientSubject: "lanic-ra",
    caCertificatePath: caFile,
  });
  return { hsm, token, signer, rootCert, caCert, rootPem, caPem, rootFile, caFile, profiles, config };
}

/** openssl genpkey, cached per algorithm spec in `dir`. */
export function opensslKey(dir: string, spec: string): string {
  const file = join(dir, `key-${spec.replace(/[^a-z0-9]/gi, "_")}.pem`);
  const args = spec.startsWith("rsa:")
    ? ["genpkey", "-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${spec.slice(4)}`, "-out", file]
    : ["genpkey", "-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${spec.slice(3)}`, "-out", file];
  try {
    execFileSync("test", ["-f", file]);
  } catch {
    execFileSync("openssl", args, { stdio: "ignore" });
  }
  return file;
}

/** A CSR made by `openssl req` (PEM). `subj` in openssl's /A=v/B=w form (UTF-8 allowed). */
export function opensslCsr(dir: string, keySpec: string, subj: string, addext: string[] = []): string {
  const key = opensslKey(dir, keySpec);
  const args = ["req", "-new", "-utf8", "-key", key, "-subj", subj, "-sha256", ...addext.flatMap((e) => ["-addext", e])];
  return execFileSync("openssl", args, { env: { ...process.env, OPENSSL_CONF: "/dev/null" } }).toString();
}
