import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync, spawnSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerPublicKey, LintError, parseCsr, CsrError, prepareCertificate, randomSerial, signCertificate, subjectPublicKey, toPem } from "../src/pki/index.js";
import { createTestCa, opensslCsr, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
const NOW = new Date("2026-03-01T08:00:00Z");

beforeAll(async () => {
  tmp = tempDir("pki");
  ca = await createTestCa(tmp.dir);
});
afterAll(() => {
  ca?.token.close();
  if (!process.env.KEEP_TMP) tmp?.cleanup();
});

async function issue(profile: string, csrPem: string, validityDays?: number, now = NOW) {
  const p = ca.profiles[profile];
  const prepared = prepareCertificate(p, parseCsr(csrPem), { serial: randomSerial(), now, validityDays });
  const der = await signCertificate(p, prepared, ca.signer, issuerPublicKey(ca.signer.spki));
  return { prepared, der, pem: toPem(der) };
}

function writeCert(name: string, pem: string): string {
  const f = join(tmp.dir, name);
  writeFileSync(f, pem);
  return f;
}

const LAO = {
  CN: "ທ້າວ ສົມພອນ ວົງສະຫວັນ",
  title: "ຫົວໜ້າກົມ",
  O: "ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ",
};

describe("issuance checked by independent tools", () => {
  it("issues an ex-officio certificate with a Lao-script subject that openssl and certtool accept", async () => {
    const csr = opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=${LAO.O}/title=${LAO.title}/CN=${LAO.CN}`, ["subjectAltName=email:somphone@mtc.gov.la"]);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const { der, pem, prepared } = await issue("ex-officio", csr, undefined, now);
    const file = writeCert("ex-officio.pem", pem);
    expect(execFileSync("openssl", ["verify", "-CAfile", ca.rootFile, "-untrusted", ca.caFile, file]).toString()).toBe(`${file}: OK\n`);
    const text = execFileSync("openssl", ["x509", "-in", file, "-noout", "-text", "-nameopt", "utf8,sep_comma_plus_space"]).toString();
    expect(text).toContain(`Subject: C=LA, O=${LAO.O}, title=${LAO.title}, CN=${LAO.CN}`);
    expect(text).toContain("Issuer: CN=LANIC Test Issuing CA 1, O=MTC, C=LA");
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+1\.3\.6\.1\.4\.1\.311\.10\.3\.12, E-mail Protection/);
    expect(text).toMatch(/Policy: 1\.3\.6\.1\.4\.1\.99999\.1\.1\s+Policy: 1\.3\.6\.1\.4\.1\.99999\.1\.2\.1/);
    expect(text).toMatch(/OCSP - URI:http:\/\/ocsp\.ca\.gov\.la\s+CA Issuers - URI:http:\/\/repo\.ca\.gov\.la\/issuing-ca-1\.crt/);
    expect(text).toMatch(/CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/crl\.ca\.gov\.la\/issuing-ca-1\.crl/);
    expect(text).toMatch(/Subject Alternative Name:\s+email:somphone@mtc\.gov\.la/);
    // 365 days counted inclusively (RFC 5280 4.1.2.5): notAfter = notBefore + 365 d − 1 s.
    const iso = (d: Date) => d.toISOString().replace("T", " ").replace(".000", "");
    const dates = execFileSync("openssl", ["x509", "-in", file, "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601"]).toString();
    expect(dates).toBe(`notBefore=${iso(now)}\nnotAfter=${iso(new Date(now.getTime() + 365 * 86_400_000 - 1000))}\n`);
    // The Lao strings are UTF8String (tag 0x0c) in the DER (RFC 5280 4.1.2.6).
    const asn1 = execFileSync("openssl", ["asn1parse", "-in", file]).toString();
    expect(asn1.match(/UTF8STRING/g)?.length).toBeGreaterThanOrEqual(3);
    // TBS bytes in the certificate are the linted ones; @peculiar/x509 reads the same fields.
    const cert = new x509.X509Certificate(der);
    expect(Buffer.from(cert.serialNumber, "hex")).toEqual(prepared.serial);
    expect(cert.notAfter.getTime()).toBe(now.getTime() + 365 * 86_400_000 - 1000);
    expect(await cert.verify({ publicKey: ca.caCert.publicKey, signatureOnly: true })).toBe(true);
    const chain = writeCert("ex-officio-chain.pem", pem + ca.caPem + ca.rootPem);
    const certtool = spawnSync("certtool", ["--verify-chain", "--infile", chain]);
    expect(certtool.stdout.toString()).toContain("Chain verification output: Verified. The certificate is trusted.");
    expect(certtool.status).toBe(0);
  });

  it.each([
    ["organisation", "rsa:2048", "/C=LA/O=Lao Telecom Co./organizationIdentifier=MTC-LIC-0042/CN=Lao Telecom Co.", [], "1.3.6.1.4.1.311.10.3.12"],
    ["tls-server", "ec:P-384", "/C=LA/L=Vientiane/O=MTC/CN=www.mtc.gov.la", ["subjectAltName=DNS:www.mtc.gov.la,DNS:mtc.gov.la"], "TLS Web Server Authentication"],
    ["smime", "ec:P-256", "/CN=Somphone V.", ["subjectAltName=email:somphone@mtc.gov.la"], "E-mail Protection"],
    ["operator", "ec:P-256", "/C=LA/O=LANIC/CN=ra-operator-1", [], "TLS Web Client Authentication"],
    ["ocsp", "ec:P-256", "/C=LA/O=LANIC/CN=LANIC OCSP 1", [], "OCSP Signing"],
  ] as const)("issues under profile %s a CSR from openssl req (%s)", async (profile, key, subj, addext, eku) => {
    const { pem } = await issue(profile, opensslCsr(tmp.dir, key, subj, [...addext]), undefined, new Date());
    const file = writeCert(`${profile}.pem`, pem);
    const purpose = { "tls-server": ["-purpose", "sslserver"], smime: ["-purpose", "smimesign"], operator: ["-purpose", "sslclient"] }[profile as string] ?? [];
    expect(execFileSync("openssl", ["verify", ...purpose, "-CAfile", ca.rootFile, "-untrusted", ca.caFile, file]).toString()).toBe(`${file}: OK\n`);
    const text = execFileSync("openssl", ["x509", "-in", file, "-noout", "-text"]).toString();
    expect(text).toContain(eku);
    expect(text.includes("Subject Key Identifier")).toBe(profile !== "tls-server"); // BR 7.1.2.7.6
    expect(text.includes("OCSP No Check")).toBe(profile === "ocsp");
    const chain = writeCert(`${profile}-chain.pem`, pem + ca.caPem + ca.rootPem);
    const certtool = spawnSync("certtool", ["--verify-chain", "--infile", chain]);
    expect(certtool.stdout.toString()).toContain("Chain verification output: Verified. The certificate is trusted.");
    expect(certtool.status).toBe(0);
  });

  it("issues from the same inputs the same TBS bytes (ECDSA signatures differ, TBS must not)", async () => {
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-2"));
    const serial = randomSerial();
    const a = prepareCertificate(ca.profiles.operator, csr, { serial, now: NOW });
    const b = prepareCertificate(ca.profiles.operator, csr, { serial, now: NOW });
    expect(a.tbs.equals(b.tbs)).toBe(true);
    const c1 = await signCertificate(ca.profiles.operator, a, ca.signer, issuerPublicKey(ca.signer.spki));
    const c2 = await signCertificate(ca.profiles.operator, b, ca.signer, issuerPublicKey(ca.signer.spki));
    expect(c1.equals(c2)).toBe(false);
    expect(c1.subarray(4, 4 + a.tbs.length).equals(a.tbs)).toBe(true);
  });

  it("refuses a signature that does not verify with the CA key (discards the certificate)", async () => {
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=op-3"));
    const p = ca.profiles.operator;
    const prepared = prepareCertificate(p, csr, { serial: randomSerial(), now: NOW });
    const wrongKey = issuerPublicKey(Buffer.from(ca.rootCert.publicKey.rawData));
    await expect(signCertificate(p, prepared, ca.signer, wrongKey)).rejects.toThrow("the HSM signature does not verify with the CA public key; certificate discarded");
  });
});

describe("pre-issuance lint (deny by default), exact messages", () => {
  const cases: [string, string, string, string[], string[], number?][] = [
    ["RSA-1024 key", "organisation", "rsa:1024", ["/C=LA/O=X/organizationIdentifier=L-1/CN=X"], [`key RSA 1024 is not allowed by profile "organisation" (allowed: ECDSA_P256, RSA_2048, RSA_3072) (BR 6.1.5)`]],
    ["curve not allowed", "operator", "ec:secp256k1", ["/C=LA/O=X/CN=X"], [`key EC secp256k1 (1.3.132.0.10) is not allowed by profile "operator" (allowed: ECDSA_P256, ECDSA_P384) (BR 6.1.5)`]],
    ["P-521 not in profile", "operator", "ec:P-521", ["/C=LA/O=X/CN=X"], [`key EC P-521 is not allowed by profile "operator" (allowed: ECDSA_P256, ECDSA_P384) (BR 6.1.5)`]],
    ["attribute not allowed", "operator", "ec:P-256", ["/C=LA/O=X/L=Vientiane/CN=X"], [`subject attribute L is not allowed by profile "operator" (allowed: CN, O, C, OU)`]],
    ["country not allowed", "operator", "ec:P-256", ["/C=TH/O=X/CN=X"], [`subject attribute C (TH) is not allowed by profile "operator" (allowed countries: LA)`]],
    ["required attribute missing", "ex-officio", "ec:P-256", ["/C=LA/O=MTC/CN=X"], [`subject attribute title is required by profile "ex-officio"`]],
    ["duplicate CN", "operator", "ec:P-256", ["/C=LA/O=X/CN=A/CN=B"], ["subject attribute CN appears 2 times; at most once is allowed"]],
    [
      "multi-valued RDN",
      "operator",
      "ec:P-256",
      ["/C=LA/O=X+OU=Y/CN=A"],
      [`subject attribute O is in a multi-valued RDN, which profile "operator" does not allow`, `subject attribute OU is in a multi-valued RDN, which profile "operator" does not allow`],
    ],
    [
      "organizationIdentifier too long",
      "organisation",
      "ec:P-256",
      [`/C=LA/O=X/organizationIdentifier=${"ກ".repeat(65)}/CN=X`],
      [
        "subject attribute organizationIdentifier has 65 characters (195 UTF-8 octets), more than 64 characters (RFC 5280 Appendix A ub-organization-identifier); the bound counts characters, and some verifiers count UTF-8 octets instead, so a Lao name near the bound may be refused by them (docs/adr/0071-name-bounds-in-characters.md)",
      ],
    ],
    ["DNS SAN in a signing profile", "operator", "ec:P-256", ["/C=LA/O=X/CN=X", "subjectAltName=DNS:x.gov.la"], [`subjectAltName dNSName x.gov.la is not allowed by profile "operator"`]],
    [
      "wildcard DNS",
      "tls-server",
      "ec:P-256",
      ["/C=LA/L=Vientiane/O=MTC/CN=*.gov.la", "subjectAltName=DNS:*.gov.la"],
      ["subjectAltName dNSName *.gov.la is not a fully-qualified domain name in preferred syntax (BR 7.1.2.7.12)", "subject CN *.gov.la must be one of the subjectAltName dNSNames (BR 7.1.4.3)"],
    ],
    [
      "TLS without SAN",
      "tls-server",
      "ec:P-256",
      ["/C=LA/L=Vientiane/O=MTC/CN=www.gov.la"],
      [`profile "tls-server" requires at least one subjectAltName`, "subject CN www.gov.la must be one of the subjectAltName dNSNames (BR 7.1.4.3)"],
    ],
    ["CA extension requested", "operator", "ec:P-256", ["/C=LA/O=X/CN=X", "basicConstraints=critical,CA:TRUE"], [`CSR requests extension 2.5.29.19, which profile "operator" does not allow (only subjectAltName)`]],
    ["validity too long", "operator", "ec:P-256", ["/C=LA/O=X/CN=X"], [`validityDays (366) exceeds the maximum of profile "operator" (365) (CP/CPS 6.3.2)`], 366],
  ];
  it.each(cases)("%s", (_name, profile, key, [subj, ...addext], messages, validityDays) => {
    const csr = parseCsr(opensslCsr(tmp.dir, key, subj, addext));
    let err: unknown;
    try {
      prepareCertificate(ca.profiles[profile], csr, { serial: randomSerial(), now: NOW, validityDays });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LintError);
    expect((err as LintError).problems).toEqual(messages);
  });

  it.each([
    ["not PEM", "hello", "CSR is not PEM with the label CERTIFICATE REQUEST"],
    ["truncated DER", "-----BEGIN CERTIFICATE REQUEST-----\nMIIBCjCBsQIBADAP\n-----END CERTIFICATE REQUEST-----", "CSR is not valid DER: length at byte 0 runs past the end"],
  ])("refuses a malformed CSR: %s", (_n, input, message) => {
    expect(() => parseCsr(input)).toThrow(new CsrError(message));
  });

  it("refuses a CSR whose signature does not verify", () => {
    const der = Buffer.from(parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=X/CN=X")).der);
    der[30] ^= 0x01; // inside the subject: the signature no longer covers these bytes
    expect(() => parseCsr(der)).toThrow("CSR signature does not verify with its public key (RFC 2986: proof of possession)");
  });

  // csr.ts builds canonical keys from their components instead of OpenSSL's DER decoder (ADR 0083):
  // the key must be the one the decoder gives, and a point off the curve is refused as it refuses it.
  it.each([
    ["P-256", { namedCurve: "P-256" }],
    ["P-384", { namedCurve: "P-384" }],
    ["P-521", { namedCurve: "P-521" }],
    ["RSA-2048", { modulusLength: 2048 }],
    ["RSA-3072 with exponent 3", { modulusLength: 3072, publicExponent: 3 }],
  ] as const)("imports a %s SubjectPublicKeyInfo as OpenSSL's DER decoder does", (_n, options) => {
    const spki = generateKeyPairSync("namedCurve" in options ? "ec" : "rsa", options as never).publicKey.export({ type: "spki", format: "der" });
    const key = subjectPublicKey(spki);
    expect(key.export({ type: "spki", format: "der" }).equals(spki)).toBe(true);
    expect(key.equals(createPublicKey({ key: spki, format: "der", type: "spki" }))).toBe(true);
  });

  it("refuses a P-256 point that is not on the curve, like the DER decoder", () => {
    const spki = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" });
    spki[spki.length - 1] ^= 0x01; // the last octet of y
    expect(() => createPublicKey({ key: spki, format: "der", type: "spki" })).toThrow();
    expect(() => subjectPublicKey(spki)).toThrow();
  });
});
