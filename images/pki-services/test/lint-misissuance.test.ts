/**
 * Misissuance the pre-issuance lint refuses before anything is signed: each case is a violating
 * fixture (a CSR made by openssl, or crafted byte by byte where openssl will not make it) and the
 * exact problem, with its section.
 */
import "reflect-metadata";
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IssuingCaServiceConfig } from "../src/config/schema.js";
import { bitString, children, content, ctxPrim, oid, octets, readTlv, seq, set, smallInt, tlv, TAG } from "../src/pki/der.js";
import { lintPublicKey } from "../src/pki/lint.js";
import { buildTbs, compileProfile, issuerPublicKey, lintTbs, LintError, parseCsr, prepareCertificate, randomSerial, signCertificate, toPem, type CompiledProfile, type ParsedCsr } from "../src/pki/index.js";
import { createTestCa, opensslCsr, opensslKey, PROFILES, type TestCa } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
const NOW = new Date("2026-03-01T08:00:00Z");

beforeAll(async () => {
  tmp = tempDir("lint");
  ca = await createTestCa(tmp.dir);
});
afterAll(() => {
  ca?.token.close();
  if (!process.env.KEEP_TMP) tmp?.cleanup();
});

function problems(profile: CompiledProfile, csr: ParsedCsr, validityDays?: number): string[] {
  try {
    prepareCertificate(profile, csr, { serial: randomSerial(), now: NOW, validityDays });
  } catch (e) {
    if (e instanceof LintError) return [...e.problems];
    throw e;
  }
  return [];
}

// ------------------------------------------------------------------ crafted CSRs
const OID_EXT_REQ = "1.2.840.113549.1.9.14";
const SIG = { ecdsaSha256: "1.2.840.10045.4.3.2", rsaSha256: "1.2.840.113549.1.1.11" };
const atv = (type: string, tag: number, value: string) => set(seq(oid(type), tlv(tag, Buffer.from(value, tag === TAG.UTF8String ? "utf8" : "latin1"))));
const C = (v = "LA") => atv("2.5.4.6", TAG.PrintableString, v);
const O = (v = "LANIC", tag: number = TAG.UTF8String) => atv("2.5.4.10", tag, v);
const CN = (v: string, tag: number = TAG.UTF8String) => atv("2.5.4.3", tag, v);

/** A CSR (DER) over `subject` and `spki`, signed by `keyPem` with `sigOid` (its hash: SHA-256). */
function craftCsr(subject: Buffer, spki: Buffer, keyPem: string, sigOid: string, san?: Buffer): Buffer {
  const attrs = san ? Buffer.concat([Buffer.from([0xa0]), lenOf(seq(oid(OID_EXT_REQ), set(seq(seq(oid("2.5.29.17"), octets(san))))))]) : Buffer.from([0xa0, 0x00]);
  const cri = seq(smallInt(0), subject, spki, attrs);
  const algId = sigOid === SIG.rsaSha256 ? seq(oid(sigOid), Buffer.from([5, 0])) : seq(oid(sigOid));
  const signature = sign("sha256", cri, createPrivateKey(keyPem));
  return seq(cri, algId, bitString(signature));
}
/** [0] IMPLICIT SET OF Attribute: the constructed tag 0xa0 with the attribute's length. */
function lenOf(attr: Buffer): Buffer {
  const wrapped = tlv(TAG.SET, attr); // SET header gives the DER length bytes
  return Buffer.concat([wrapped.subarray(1)]);
}
const spkiOf = (keyFile: string): Buffer => createPublicKey(readFileSync(keyFile)).export({ format: "der", type: "spki" }) as Buffer;

/** The SPKI of `spki` with its RSA public exponent replaced. */
function withExponent(spki: Buffer, e: bigint): Buffer {
  const [, key] = children(spki, readTlv(spki, 0));
  const bits = content(spki, key).subarray(1);
  const [n] = children(bits, readTlv(bits, 0));
  let hex = e.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const eb = Buffer.from(hex, "hex");
  const eInt = tlv(TAG.INTEGER, eb[0] & 0x80 ? Buffer.concat([Buffer.from([0]), eb]) : eb);
  return seq(seq(oid("1.2.840.113549.1.1.1"), Buffer.from([5, 0])), bitString(seq(bits.subarray(n.start, n.end), eInt)));
}

describe("keys (BR 6.1.6, 7.1.3.1; RFC 5480, RFC 2986)", () => {
  it("refuses an RSA key with public exponent 1, even, or below 2^16+1", () => {
    const spki = spkiOf(opensslKey(tmp.dir, "rsa:2048"));
    expect(lintPublicKey(withExponent(spki, 1n))).toEqual(["RSA public exponent 1 must be an odd number of at least 3 (BR 6.1.6)"]);
    expect(lintPublicKey(withExponent(spki, 65536n))).toEqual(["RSA public exponent 65536 must be an odd number of at least 3 (BR 6.1.6)"]);
    expect(lintPublicKey(withExponent(spki, 3n))).toEqual(["RSA public exponent 3 must be in 2^16+1 .. 2^256-1 (BR 6.1.6, CP 6.1.6)"]);
    expect(lintPublicKey(spki)).toEqual([]);
    // Through the whole request lint: the CSR as parsed, with the exponent-1 key in it.
    const csr = parseCsr(opensslCsr(tmp.dir, "rsa:2048", "/C=LA/O=X/organizationIdentifier=L-1/CN=X"));
    expect(problems(ca.profiles.organisation, { ...csr, spki: withExponent(csr.spki, 1n) })).toEqual(["RSA public exponent 1 must be an odd number of at least 3 (BR 6.1.6)"]);
  });

  it("refuses an RSA SubjectPublicKeyInfo without the NULL parameters (a CSR openssl verifies)", () => {
    const keyFile = opensslKey(tmp.dir, "rsa:2048");
    const spki = spkiOf(keyFile);
    const [, key] = children(spki, readTlv(spki, 0));
    const noNull = seq(seq(oid("1.2.840.113549.1.1.1")), spki.subarray(key.start, key.end));
    const der = craftCsr(seq(C(), O("X"), atv("2.5.4.97", TAG.UTF8String, "L-1"), CN("X")), noNull, readFileSync(keyFile, "utf8"), SIG.rsaSha256);
    expect(problems(ca.profiles.organisation, parseCsr(der))).toEqual([
      "RSA SubjectPublicKeyInfo algorithm must be exactly 300d06092a864886f70d0101010500 (rsaEncryption with NULL parameters), found 300b06092a864886f70d010101 (BR 7.1.3.1.1)",
    ]);
  });

  it("refuses a compressed EC point (a CSR whose signature verifies)", () => {
    const keyFile = opensslKey(tmp.dir, "ec:P-256");
    const spki = spkiOf(keyFile);
    const point = spki.subarray(spki.length - 65);
    const compressed = Buffer.concat([Buffer.from([point[64] & 1 ? 3 : 2]), point.subarray(1, 33)]);
    const spkiC = seq(seq(oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")), bitString(compressed));
    const der = craftCsr(seq(C(), O(), CN("op-c")), spkiC, readFileSync(keyFile, "utf8"), SIG.ecdsaSha256);
    expect(problems(ca.profiles.operator, parseCsr(der))).toEqual(["EC public key is a compressed point; it must be uncompressed (0x04 || X || Y) (RFC 5480 2.2, BR 7.1.3.1.2)"]);
  });

  it("refuses a CSR whose signature algorithm is not of its key's family", () => {
    const keyFile = opensslKey(tmp.dir, "rsa:2048");
    // An RSA PKCS#1 signature labelled ecdsa-with-SHA256: a verifier that trusts the key type verifies it.
    const der = craftCsr(seq(C(), O("X"), atv("2.5.4.97", TAG.UTF8String, "L-1"), CN("X")), spkiOf(keyFile), readFileSync(keyFile, "utf8"), SIG.ecdsaSha256);
    expect(problems(ca.profiles.organisation, parseCsr(der))).toEqual(["CSR signature algorithm 1.2.840.10045.4.3.2 is ECDSA, but the key is RSA (RFC 2986 4.2: the request is signed with the subject key)"]);
  });
});

describe("names (RFC 5280 4.1.2.4, BR 7.1.4, 7.1.2.7.12)", () => {
  it.each([
    ["a C1 control", "/C=LA/O=LANIC/CN=op\u0085x", "subject attribute CN contains C1 control characters (U+0085 at character 3) (RFC 5280 4.1.2.4, BR 7.1.4.4)"],
    ["a bidi override", "/C=LA/O=LANIC/CN=abc\u202Egpj.exe", "subject attribute CN contains bidirectional control characters (U+202E at character 4) (RFC 5280 4.1.2.4, BR 7.1.4.4)"],
    ["a zero-width space", "/C=LA/O=LAN\u200BIC/CN=op", "subject attribute O contains zero-width characters (U+200B at character 4) (RFC 5280 4.1.2.4, BR 7.1.4.4)"],
    ["a zero-width joiner in Lao", "/C=LA/O=ກະຊວງ\u200Dເຕັກໂນໂລຊີ/CN=op", "subject attribute O contains zero-width characters (U+200D at character 6) (RFC 5280 4.1.2.4, BR 7.1.4.4)"],
  ])("refuses %s", (_n, subj, message) => {
    expect(problems(ca.profiles.operator, parseCsr(opensslCsr(tmp.dir, "ec:P-256", subj)))).toEqual([message]);
  });

  it.each([
    ["a PrintableString with '*'", seq(C(), O(), CN("op*1", TAG.PrintableString)), "subject attribute CN is a PrintableString holding characters PrintableString does not allow (X.680 41.4); use UTF8String"],
    ["a PrintableString with '@'", seq(C(), O("a@b", TAG.PrintableString), CN("op")), "subject attribute O is a PrintableString holding characters PrintableString does not allow (X.680 41.4); use UTF8String"],
    ["a TeletexString", seq(C(), O("LANIC", TAG.TeletexString), CN("op")), "subject attribute O is a TeletexString; use UTF8String or PrintableString (RFC 5280 4.1.2.4)"],
  ])("refuses %s", (_n, subject, message) => {
    const keyFile = opensslKey(tmp.dir, "ec:P-256");
    expect(problems(ca.profiles.operator, parseCsr(craftCsr(subject, spkiOf(keyFile), readFileSync(keyFile, "utf8"), SIG.ecdsaSha256)))).toEqual([message]);
  });

  it("accepts a valid PrintableString", () => {
    const keyFile = opensslKey(tmp.dir, "ec:P-256");
    const der = craftCsr(seq(C(), O("LANIC (MTC)", TAG.PrintableString), CN("op-1", TAG.PrintableString)), spkiOf(keyFile), readFileSync(keyFile, "utf8"), SIG.ecdsaSha256);
    expect(problems(ca.profiles.operator, parseCsr(der))).toEqual([]);
  });

  const TLS = "/C=LA/L=Vientiane/O=MTC";
  it.each([
    ["a .local name", "intranet.local", "is an Internal Name or reserved domain (.local) (BR 7.1.2.7.12, 1.6.1)"],
    ["an .internal name", "ca.internal", "is an Internal Name or reserved domain (.internal) (BR 7.1.2.7.12, 1.6.1)"],
    ["a .lan name", "printer.office.lan", "is an Internal Name or reserved domain (.lan) (BR 7.1.2.7.12, 1.6.1)"],
    ["an IPv4 literal", "10.0.0.1", "is an IP address literal or ends in a numeric label; put an IP address in iPAddress, not dNSName (BR 7.1.2.7.12)"],
    ["a reverse zone", "1.0.168.192.in-addr.arpa", "ends in an IP Address Reverse Zone Suffix (.in-addr.arpa) (BR 7.1.2.7.12)"],
    ["an ip6.arpa name", "b.a.ip6.arpa", "ends in an IP Address Reverse Zone Suffix (.ip6.arpa) (BR 7.1.2.7.12)"],
  ])("refuses in a TLS certificate %s", (_n, name, why) => {
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", `${TLS}/CN=www.mtc.gov.la`, [`subjectAltName=DNS:www.mtc.gov.la,DNS:${name}`]));
    expect(problems(ca.profiles["tls-server"], csr)).toEqual([`subjectAltName dNSName ${name} ${why}`]);
  });

  it.each([
    ["two dots", "somphone..v@mtc.gov.la", "has a local part that is not an RFC 5322 dot-atom of ASCII characters (RFC 5321 4.1.2, RFC 5280 4.2.1.6)"],
    ["a leading dot", ".somphone@mtc.gov.la", "has a local part that is not an RFC 5322 dot-atom of ASCII characters (RFC 5321 4.1.2, RFC 5280 4.2.1.6)"],
    ["a bare host", "somphone@mtc", "has a domain (mtc) that is not a fully-qualified domain name (RFC 5321 4.1.2)"],
    ["an internal domain", "somphone@mail.internal", "has a domain (mail.internal) that is an Internal Name or reserved domain (.internal) (S/MIME BR 3.2.2)"],
    ["no local part", "@mtc.gov.la", "is not a mailbox (local-part@domain) (RFC 5321 4.1.2)"],
    ["a 65-octet local part", `${"a".repeat(65)}@mtc.gov.la`, "has a local part of 65 characters, more than 64 (RFC 5321 4.5.3.1.1)"],
  ])("refuses an S/MIME mailbox with %s", (_n, mailbox, why) => {
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/CN=Somphone V.", [`subjectAltName=email:${mailbox}`]));
    expect(problems(ca.profiles.smime, csr)).toEqual([`subjectAltName rfc822Name ${mailbox} ${why}`]);
  });

  it("refuses an S/MIME mailbox with non-ASCII characters (rfc822Name is IA5String)", () => {
    const keyFile = opensslKey(tmp.dir, "ec:P-256");
    const mailbox = Buffer.from("ສົມ@mtc.gov.la", "utf8");
    const der = craftCsr(seq(CN("Somphone")), spkiOf(keyFile), readFileSync(keyFile, "utf8"), SIG.ecdsaSha256, seq(ctxPrim(1, mailbox)));
    const [p] = problems(ca.profiles.smime, parseCsr(der));
    expect(p).toMatch(/^subjectAltName rfc822Name .* has a local part that is not an RFC 5322 dot-atom of ASCII characters \(RFC 5321 4\.1\.2, RFC 5280 4\.2\.1\.6\)$/);
  });

  it("keeps a 64-character Lao name byte-exact (UTF8String, 192 octets) and refuses 65 characters, naming both counts", async () => {
    const lao64 = "ກ".repeat(32) + "ຂ".repeat(32);
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=${lao64}/CN=op-lao`));
    const prepared = prepareCertificate(ca.profiles.operator, csr, { serial: randomSerial(), now: new Date() });
    const der = await signCertificate(ca.profiles.operator, prepared, ca.signer, issuerPublicKey(ca.signer.spki));
    const file = join(tmp.dir, "lao64.pem");
    writeFileSync(file, toPem(der));
    expect(execFileSync("openssl", ["verify", "-x509_strict", "-CAfile", ca.rootFile, "-untrusted", ca.caFile, file]).toString()).toBe(`${file}: OK\n`);
    const utf8 = Buffer.from(lao64, "utf8");
    expect(utf8.length).toBe(192);
    expect(der.includes(Buffer.concat([Buffer.from([TAG.UTF8String, 0x81, 192]), utf8]))).toBe(true);
    // openssl req itself refuses 65 characters: the CSR is made byte by byte.
    const keyFile = opensslKey(tmp.dir, "ec:P-256");
    const csr65 = parseCsr(craftCsr(seq(C(), O(`${lao64}ກ`), CN("op-lao")), spkiOf(keyFile), readFileSync(keyFile, "utf8"), SIG.ecdsaSha256));
    expect(problems(ca.profiles.operator, csr65)).toEqual([
      "subject attribute O has 65 characters (195 UTF-8 octets), more than 64 characters (RFC 5280 Appendix A ub-organization-name); the bound counts characters, and some verifiers count UTF-8 octets instead, so a Lao name near the bound may be refused by them (docs/adr/0071-name-bounds-in-characters.md)",
    ]);
  });
});

describe("a 25-character Lao name is 69 UTF-8 octets: within ub-common-name 64, which counts characters (docs/adr/0071-name-bounds-in-characters.md)", () => {
  // 22 Lao letters (3 octets each) and 3 spaces: 25 characters, 69 octets
  const lao25 = "ສົມພອນ ພົມມະວົງ ກະຊວງ ປທສ";
  it("the fixture is what it claims", () => {
    expect([...lao25].length).toBe(25);
    expect(Buffer.byteLength(lao25, "utf8")).toBe(69);
  });

  it("issues it as CN byte-exact (UTF8String, 69 octets); openssl and certtool accept the certificate", async () => {
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", `/C=LA/O=MTC/CN=${lao25}`));
    const prepared = prepareCertificate(ca.profiles.operator, csr, { serial: randomSerial(), now: new Date() });
    const der = await signCertificate(ca.profiles.operator, prepared, ca.signer, issuerPublicKey(ca.signer.spki));
    expect(der.includes(Buffer.concat([Buffer.from([TAG.UTF8String, 69]), Buffer.from(lao25, "utf8")]))).toBe(true);
    const file = join(tmp.dir, "lao25.pem");
    writeFileSync(file, toPem(der));
    expect(execFileSync("openssl", ["verify", "-x509_strict", "-CAfile", ca.rootFile, "-untrusted", ca.caFile, file]).toString()).toBe(`${file}: OK\n`);
    writeFileSync(join(tmp.dir, "lao25-chain.pem"), toPem(der) + ca.caPem + ca.rootPem);
    const gnutls = spawnSync("certtool", ["--verify-chain", "--infile", join(tmp.dir, "lao25-chain.pem")], { encoding: "utf8" });
    expect(gnutls.status, gnutls.stdout + gnutls.stderr).toBe(0);
    expect(execFileSync("openssl", ["x509", "-in", file, "-noout", "-subject", "-nameopt", "utf8,sep_comma_plus"]).toString()).toBe(`subject=C=LA,O=MTC,CN=${lao25}\n`);
  });

  it("refuses a CN one character over the bound, naming characters and octets and the verifiers that count octets", () => {
    const keyFile = opensslKey(tmp.dir, "ec:P-256");
    const lao65 = "ກ".repeat(65);
    const csr = parseCsr(craftCsr(seq(C(), O("MTC"), CN(lao65)), spkiOf(keyFile), readFileSync(keyFile, "utf8"), SIG.ecdsaSha256));
    expect(problems(ca.profiles.operator, csr)).toEqual([
      "subject attribute CN has 65 characters (195 UTF-8 octets), more than 64 characters (RFC 5280 Appendix A ub-common-name); the bound counts characters, and some verifiers count UTF-8 octets instead, so a Lao name near the bound may be refused by them (docs/adr/0071-name-bounds-in-characters.md)",
    ]);
  });
});

describe("profile content re-checked in the TBS (RFC 8813 3, BR 7.1.2.7.4, 7.1.2.8)", () => {
  it("gives an ECDSA key no keyEncipherment and an RSA key both bits under the same S/MIME profile", async () => {
    for (const [key, ku] of [
      ["ec:P-256", "Digital Signature\n"],
      ["rsa:2048", "Digital Signature, Key Encipherment\n"],
    ] as const) {
      const csr = parseCsr(opensslCsr(tmp.dir, key, "/CN=Somphone V.", ["subjectAltName=email:somphone@mtc.gov.la"]));
      const prepared = prepareCertificate(ca.profiles.smime, csr, { serial: randomSerial(), now: new Date() });
      const der = await signCertificate(ca.profiles.smime, prepared, ca.signer, issuerPublicKey(ca.signer.spki));
      const text = execFileSync("openssl", ["x509", "-inform", "DER", "-noout", "-ext", "keyUsage"], { input: der }).toString();
      expect(text).toBe(`X509v3 Key Usage: critical\n    ${ku}`);
    }
  });

  it("refuses a TBS whose keyUsage gives an ECDSA key keyEncipherment (a compile defect)", () => {
    const broken: CompiledProfile = { ...ca.profiles.smime, constantExtensions: { ...ca.profiles.smime.constantExtensions, EC: ca.profiles.smime.constantExtensions.RSA } };
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/CN=Somphone V.", ["subjectAltName=email:somphone@mtc.gov.la"]));
    expect(problems(broken, csr)).toEqual(["keyUsage keyEncipherment must not be asserted for an ECDSA key (RFC 8813 3, BR 7.1.2.7.11)"]);
  });

  it("refuses an organization-validated TLS certificate without locality or state, at the request and in the TBS", () => {
    const loose = { ...PROFILES["tls-server"], subject: { required: ["O", "C"], optional: ["CN", "ST", "L"], countries: ["LA"] } } as (typeof PROFILES)["tls-server"];
    const p = compileProfile("tls-loose", loose, ca.profiles["tls-server"].issuer);
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=MTC/CN=www.mtc.gov.la", ["subjectAltName=DNS:www.mtc.gov.la"]));
    expect(problems(p, csr)).toEqual(["subject localityName (L) or stateOrProvinceName (ST) is required in an organization-validated TLS certificate (BR 7.1.2.7.4)"]);
    const notAfter = new Date(NOW.getTime() + 86_400_000 - 1000);
    const serial = randomSerial();
    const tbs = buildTbs(p, { serial, notBefore: NOW, notAfter, subjectDer: seq(C(), O("MTC"), CN("www.mtc.gov.la")), spki: csr.spki, publicKeyBits: csr.publicKeyBits, dns: ["www.mtc.gov.la"], email: [] });
    expect(() => lintTbs(p, tbs, { serial, notBefore: NOW, notAfter })).toThrow(new LintError(["an organization-validated TLS certificate names localityName or stateOrProvinceName (BR 7.1.2.7.4)"]));
  });

  it("refuses an OCSP responder TBS carrying a CRL distribution point, AIA and certificatePolicies", () => {
    const operator = ca.profiles.operator;
    const broken: CompiledProfile = { ...operator, profile: { ...operator.profile, kind: "ocsp-signing", keyUsage: ["digitalSignature"] } };
    const csr = parseCsr(opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=LANIC/CN=LANIC OCSP 9"));
    expect(problems(broken, csr)).toEqual([
      "an OCSP responder certificate must not carry cRLDistributionPoints (BR 7.1.2.8.2)",
      "an OCSP responder certificate carries no authorityInformationAccess (BR 7.1.2.8.3)",
      "an OCSP responder certificate carries no certificatePolicies (BR 7.1.2.8.8)",
      "an OCSP responder certificate must carry id-pkix-ocsp-nocheck with the value NULL (BR 7.1.2.8.6)",
    ]);
    // The real profile: none of them, nocheck present.
    expect(problems(ca.profiles.ocsp, csr)).toEqual([]);
  });
});

describe("the service refuses a configuration above the CP's limits (whatever the file says)", () => {
  const good = () => JSON.parse(JSON.stringify(ca.config));
  const issues = (config: unknown) => {
    const r = IssuingCaServiceConfig.safeParse(config);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  it("accepts the test CA's configuration", () => {
    expect(issues(good())).toEqual([]);
  });
  it.each([
    ["a 100-year profile", (c: any) => (c.profiles.operator.maxValidityDays = 36525), "profiles.operator.maxValidityDays: 36525 days is more than the 365 days the CP allows any certificate it issues (CP 6.3.2)"],
    ["a file: CRL URL", (c: any) => (c.urls.crl = "file:///etc/passwd"), "urls.crl: CRL distribution point 'file:///etc/passwd' must be an http:// URL, not file: (BR 7.1.2.11.2)"],
    ["a javascript: AIA URL", (c: any) => (c.urls.caIssuers = "javascript:alert(1)"), "urls.caIssuers: AIA caIssuers 'javascript:alert(1)' must be an http:// URL, not javascript: (BR 7.1.2.7.7)"],
    ["an https OCSP URL", (c: any) => (c.urls.ocsp = "https://ocsp.ca.gov.la"), "urls.ocsp: AIA OCSP 'https://ocsp.ca.gov.la' must be an http:// URL, not https: (BR 7.1.2.7.7, RFC 6960 A.1)"],
    ["an OCSP profile without nocheck", (c: any) => (c.profiles.ocsp.ocspNoCheck = false), "profiles.ocsp.ocspNoCheck: an OCSP signing profile must add id-pkix-ocsp-nocheck (BR 7.1.2.8.6, RFC 6960 4.2.2.2.1)"],
    [
      "a TLS profile allowing e-mail SANs",
      (c: any) => (c.profiles["tls-server"].subjectAltNames.email = true),
      "profiles.tls-server.subjectAltNames.email: a TLS profile must not allow rfc822Name subjectAltNames (BR 7.1.2.7.12)",
    ],
  ])("refuses %s", (_n, edit, message) => {
    const c = good();
    edit(c);
    expect(issues(c)).toEqual([message]);
  });
});
