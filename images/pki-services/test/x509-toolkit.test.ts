/**
 * The PKI core's X.509 toolkit (ADR 0021), each piece against an independent computation or
 * OpenSSL: serials (BR 7.1), key identifiers (RFC 7093 2 method 1), PEM (RFC 7468), signature
 * hashes (BR 7.1.3.2), the one certificate builder and sign → verify.
 */
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ALGORITHMS } from "../src/pkcs11/algorithms.js";
import { DerError, oidToString, uint } from "../src/pki/der.js";
import { buildTbsCertificate, caExtensions, encodeDn, fromPem, keyIdentifier, randomSerial, SERIAL_BYTES, signAndVerify, SignatureCheckError, signatureHash, toPem } from "../src/pki/index.js";

const dir = mkdtempSync(join(tmpdir(), "x509-toolkit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("serial numbers (BR 7.1: ≥ 64 bits of CSPRNG output, positive, ≤ 20 octets)", () => {
  it("are 16 octets, positive without a sign octet, 126 random bits, never repeated in 20,000", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const s = randomSerial();
      expect(s.length).toBe(SERIAL_BYTES);
      expect(s[0] & 0xc0).toBe(0x40);
      expect(uint(s).subarray(0, 2)).toEqual(Buffer.from([0x02, 16])); // INTEGER of 16 octets: no 0x00 pad
      seen.add(s.toString("hex"));
    }
    expect(seen.size).toBe(20_000);
  });
});

describe("OBJECT IDENTIFIER contents (X.690 8.19)", () => {
  const der = (oid: string) => {
    const dir = mkdtempSync(join(tmpdir(), "oid-"));
    try {
      execFileSync("openssl", ["asn1parse", "-genstr", `OID:${oid}`, "-out", join(dir, "oid.der"), "-noout"]);
      return readFileSync(join(dir, "oid.der")).subarray(2); // tag and one-octet length
    } finally {
      rmSync(dir, { recursive: true });
    }
  };
  it("decodes what OpenSSL encodes, including arcs past 2^53 (a 2.25 UUID)", () => {
    for (const oid of ["2.5.29.32.0", "1.3.6.1.5.5.7.3.1", "2.16.418.1.1.2.3", "2.23.140.1.2.2", "2.999.4", "2.25.329800735698586629295641978511506172918"]) expect(oidToString(der(oid))).toBe(oid);
  });
  it("refuses contents with no arcs or ending inside a subidentifier", () => {
    expect(() => oidToString(Buffer.alloc(0))).toThrow(DerError);
    expect(() => oidToString(Buffer.from([0x86]))).toThrow(/ends inside a subidentifier/);
    expect(() => oidToString(Buffer.from([0x2a, 0x86]))).toThrow(/ends inside a subidentifier/);
  });
});

describe("key identifiers (RFC 7093 2 method 1)", () => {
  it("are the leftmost 160 bits of SHA-256 over the subjectPublicKey bits, computed here from the key's coordinates", () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    expect(keyIdentifier(publicKey.export({ type: "spki", format: "der" })).toString("hex")).toBe(createHash("sha256").update(point).digest().subarray(0, 20).toString("hex"));
  });
});

describe("PEM (RFC 7468)", () => {
  it("round-trips, writes the CRL label OpenSSL reads, and names the input it cannot read", () => {
    const der = Buffer.from("3003020101", "hex");
    expect(toPem(der, "X509 CRL")).toBe("-----BEGIN X509 CRL-----\nMAMCAQE=\n-----END X509 CRL-----\n");
    expect(fromPem(toPem(der, "X509 CRL"), "X509 CRL")).toEqual(der);
    expect(fromPem(der, "CERTIFICATE")).toEqual(der);
    expect(() => fromPem(toPem(der, "X509 CRL"), "CERTIFICATE", "/etc/ca.pem")).toThrow('/etc/ca.pem: no PEM block "CERTIFICATE" found (nor DER)');
  });
});

describe("signature hashes (BR 7.1.3.2)", () => {
  it("follow each key's algorithm and refuse what the BRs do not allow", () => {
    for (const spec of Object.values(ALGORITHMS)) expect(signatureHash(spec.signatureAlgorithmDer)).toBe(spec.hash);
    expect(() => signatureHash(Buffer.from("300d06092a864886f70d0101050500", "hex"))).toThrow("unsupported signature algorithm 300d06092a864886f70d0101050500 (BR 7.1.3.2)");
  });
});

describe("the certificate builder and sign → verify", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const algorithm = ALGORITHMS.ECDSA_P256.signatureAlgorithmDer;
  const name = encodeDn({ C: "LA", O: "LANIC", CN: "Toolkit Test Root" });
  const tbs = buildTbsCertificate({
    serial: randomSerial(),
    signatureAlgorithm: algorithm,
    issuer: name,
    subject: name,
    spki,
    notBefore: new Date("2026-01-01T00:00:00Z"),
    notAfter: new Date("2035-12-31T23:59:59Z"),
    extensions: caExtensions({ ca: {}, keyUsage: ["keyCertSign", "cRLSign"], subjectKeyId: keyIdentifier(spki), authorityKeyId: keyIdentifier(spki) }),
  });

  it("makes a root OpenSSL verifies strictly, with the subjectKeyIdentifier of key-id.ts", async () => {
    const der = await signAndVerify("certificate", tbs, { signatureAlgorithm: algorithm, sign: async (b) => sign("sha256", b, privateKey) }, spki);
    writeFileSync(join(dir, "root.pem"), toPem(der));
    expect(execFileSync("openssl", ["verify", "-x509_strict", "-CAfile", join(dir, "root.pem"), join(dir, "root.pem")], { encoding: "utf8" }).trim()).toBe(`${join(dir, "root.pem")}: OK`);
    const text = execFileSync("openssl", ["x509", "-in", join(dir, "root.pem"), "-noout", "-ext", "subjectKeyIdentifier"], { encoding: "utf8" });
    expect(text.replace(/\s|:/g, "").toLowerCase()).toContain(keyIdentifier(spki).toString("hex"));
  });

  it("discards a signature that does not verify with the issuer key, and one over other bytes", async () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await expect(signAndVerify("certificate", tbs, { signatureAlgorithm: algorithm, sign: async (b) => sign("sha256", b, other.privateKey) }, spki)).rejects.toThrow(
      new SignatureCheckError("the HSM signature does not verify with the CA public key; certificate discarded"),
    );
    await expect(signAndVerify("CRL", tbs, { signatureAlgorithm: algorithm, sign: async () => sign("sha256", Buffer.from("other"), privateKey) }, spki)).rejects.toThrow(
      "the HSM signature does not verify with the CA public key; CRL discarded",
    );
  });
});
