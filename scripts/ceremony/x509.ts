/**
 * The pure core of the ceremonies: TBSCertificate, TBSCertList and CertificationRequestInfo
 * built as DER byte strings (RFC 5280 4.1, 5.1; RFC 2986 4), and the assembly of a signed
 * object from a TBS and a signature. No HSM and no I/O here: the shell (run.ts) hands these
 * bytes to the linter, then to the HSM signer, then to the verifier.
 *
 * Built on the DER helpers of @lanic-ca/pki-services (pki/der), so the ceremony and the online
 * issuing CA encode names, times and integers the same way.
 */
import { createHash, createPublicKey, randomBytes, verify as nodeVerify, type KeyObject } from "node:crypto";
import {
  bitString,
  bool,
  children,
  content,
  ctxCons,
  ctxPrim,
  expectTag,
  namedBits,
  octets,
  oid,
  raw,
  readTlv,
  seq,
  set,
  smallInt,
  TAG,
  time,
  tlv,
  uint,
} from "@lanic-ca/pki-services/pki/der";

export const OID = {
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  certificatePolicies: "2.5.29.32",
  crlDistributionPoints: "2.5.29.31",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  ocspNoCheck: "1.3.6.1.5.5.7.48.1.5",
  cRLNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
  adOcsp: "1.3.6.1.5.5.7.48.1",
  adCaIssuers: "1.3.6.1.5.5.7.48.2",
  anyPolicy: "2.5.29.32.0",
  anyExtendedKeyUsage: "2.5.29.37.0",
  // Distinguished-name attributes (RFC 5280 appendix A.1).
  C: "2.5.4.6",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  CN: "2.5.4.3",
} as const;

export const EKU = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
  documentSigning: "1.3.6.1.4.1.311.10.3.12",
} as const;
export type EkuName = keyof typeof EKU;

export interface DistinguishedName {
  readonly C: string;
  readonly O: string;
  readonly OU?: string;
  readonly CN: string;
}

/** Name in the order C, O, OU, CN; countryName as PrintableString (RFC 5280 appendix A.1),
 *  the others as UTF8String (RFC 5280 4.1.2.6; BR 7.1.4). */
export function encodeName(dn: DistinguishedName): Buffer {
  const rdn = (type: string, tag: number, value: string) => set(seq(oid(type), tlv(tag, Buffer.from(value, "utf8"))));
  const rdns = [rdn(OID.C, TAG.PrintableString, dn.C), rdn(OID.O, TAG.UTF8String, dn.O)];
  if (dn.OU) rdns.push(rdn(OID.OU, TAG.UTF8String, dn.OU));
  rdns.push(rdn(OID.CN, TAG.UTF8String, dn.CN));
  return seq(...rdns);
}

/** The BIT STRING contents (without the unused-bits octet) of a SubjectPublicKeyInfo. */
export function spkiPublicKeyBits(spki: Uint8Array): Buffer {
  const outer = expectTag(readTlv(spki, 0), TAG.SEQUENCE, "SubjectPublicKeyInfo");
  const [, bits] = children(spki, outer);
  expectTag(bits, TAG.BIT_STRING, "subjectPublicKey");
  return content(spki, bits).subarray(1);
}

/** Key identifier by RFC 7093 section 2 method 1: the leftmost 160 bits of the SHA-256 of the
 *  subjectPublicKey BIT STRING value (BR 7.1.2.11.4 leaves the method to the CA). */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return createHash("sha256").update(spkiPublicKeyBits(spki)).digest().subarray(0, 20);
}

export const sha256Hex = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");

/** A positive serial of 16 CSPRNG octets, 127 bits of entropy: > 0, < 2^159, ≥ 64 bits of
 *  CSPRNG output, not sequential (BR 7.1.2.1 serialNumber, 7.1.2.10). */
export function randomSerial(): Buffer {
  const s = randomBytes(16);
  s[0] &= 0x7f;
  if (s[0] === 0) s[0] = 0x01; // keep 16 octets: never a short or zero serial
  return s;
}

function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

export type KeyUsageName = "digitalSignature" | "keyCertSign" | "cRLSign";
const KU_BITS: Record<KeyUsageName, number> = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };

export interface CertificateTemplate {
  readonly serial: Uint8Array;
  /** DER AlgorithmIdentifier of the issuer's signature (BR 7.1.3.2). */
  readonly signatureAlgorithm: Uint8Array;
  /** DER Name of the issuer, byte-for-byte as in the issuer certificate's subject. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  /** null: not a CA (basicConstraints omitted); otherwise cA TRUE with this pathLenConstraint
   *  (undefined: no constraint). */
  readonly ca: { readonly pathLength?: number } | null;
  readonly keyUsage: readonly KeyUsageName[];
  readonly extendedKeyUsage?: readonly string[];
  readonly subjectKeyId: Uint8Array;
  readonly authorityKeyId?: Uint8Array;
  readonly policies?: readonly string[];
  readonly crlUrl?: string;
  readonly issuerUrl?: string;
  readonly ocspUrl?: string;
  readonly ocspNoCheck?: boolean;
}

/** TBSCertificate (RFC 5280 4.1), v3, extensions in a fixed order. */
export function buildTbsCertificate(t: CertificateTemplate): Buffer {
  const exts: Buffer[] = [];
  if (t.ca) {
    const bc = t.ca.pathLength === undefined ? seq(bool(true)) : seq(bool(true), smallInt(t.ca.pathLength));
    exts.push(extension(OID.basicConstraints, true, bc)); // BR 7.1.2.10.4: critical
  }
  exts.push(extension(OID.keyUsage, true, namedBits(t.keyUsage.map((k) => KU_BITS[k])))); // BR 7.1.2.10.7
  if (t.extendedKeyUsage && t.extendedKeyUsage.length > 0) {
    exts.push(extension(OID.extKeyUsage, false, seq(...t.extendedKeyUsage.map((e) => oid(e)))));
  }
  exts.push(extension(OID.subjectKeyIdentifier, false, octets(t.subjectKeyId)));
  if (t.authorityKeyId) exts.push(extension(OID.authorityKeyIdentifier, false, seq(ctxPrim(0, t.authorityKeyId))));
  if (t.policies && t.policies.length > 0) {
    exts.push(extension(OID.certificatePolicies, false, seq(...t.policies.map((p) => seq(oid(p))))));
  }
  if (t.crlUrl) {
    const dp = seq(ctxCons(0, ctxCons(0, ctxPrim(6, Buffer.from(t.crlUrl, "ascii")))));
    exts.push(extension(OID.crlDistributionPoints, false, seq(dp)));
  }
  const aia: Buffer[] = [];
  if (t.ocspUrl) aia.push(seq(oid(OID.adOcsp), ctxPrim(6, Buffer.from(t.ocspUrl, "ascii"))));
  if (t.issuerUrl) aia.push(seq(oid(OID.adCaIssuers), ctxPrim(6, Buffer.from(t.issuerUrl, "ascii"))));
  if (aia.length > 0) exts.push(extension(OID.authorityInfoAccess, false, seq(...aia)));
  if (t.ocspNoCheck) exts.push(extension(OID.ocspNoCheck, false, Buffer.from([TAG.NULL, 0])));
  return seq(
    ctxCons(0, smallInt(2)),
    uint(t.serial),
    Buffer.from(t.signatureAlgorithm),
    Buffer.from(t.issuer),
    seq(time(t.notBefore), time(t.notAfter)),
    Buffer.from(t.subject),
    Buffer.from(t.spki),
    ctxCons(3, seq(...exts)),
  );
}

export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type CrlReason = keyof typeof CRL_REASONS;

export interface CrlTemplate {
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly number: bigint;
  readonly authorityKeyId: Uint8Array;
  readonly revoked: readonly { serial: Uint8Array; date: Date; reason?: CrlReason }[];
}

function bigintBytes(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, "hex");
}

/** TBSCertList (RFC 5280 5.1), v2, with authorityKeyIdentifier and cRLNumber (RFC 5280 5.2). */
export function buildTbsCrl(t: CrlTemplate): Buffer {
  const parts: Buffer[] = [
    smallInt(1),
    Buffer.from(t.signatureAlgorithm),
    Buffer.from(t.issuer),
    time(t.thisUpdate),
    time(t.nextUpdate),
  ];
  if (t.revoked.length > 0) {
    parts.push(
      seq(
        ...t.revoked.map((r) =>
          r.reason === undefined
            ? seq(uint(r.serial), time(r.date))
            : seq(uint(r.serial), time(r.date), seq(extension(OID.reasonCode, false, tlv(0x0a, Buffer.from([CRL_REASONS[r.reason]]))))),
        ),
      ),
    );
  }
  parts.push(
    ctxCons(
      0,
      seq(
        extension(OID.authorityKeyIdentifier, false, seq(ctxPrim(0, t.authorityKeyId))),
        extension(OID.cRLNumber, false, uint(bigintBytes(t.number))),
      ),
    ),
  );
  return seq(...parts);
}

/** CertificationRequestInfo (RFC 2986 4.1) with no attributes. */
export function buildCsrInfo(subject: Uint8Array, spki: Uint8Array): Buffer {
  return seq(smallInt(0), Buffer.from(subject), Buffer.from(spki), Buffer.from([0xa0, 0x00]));
}

/** Certificate / CertificateList / CertificationRequest: SEQUENCE { tbs, algorithm, BIT STRING }. */
export function assembleSigned(tbs: Uint8Array, signatureAlgorithm: Uint8Array, signature: Uint8Array): Buffer {
  return seq(Buffer.from(tbs), Buffer.from(signatureAlgorithm), bitString(signature));
}

export interface SignedParts {
  readonly tbs: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly signature: Buffer;
}

/** Splits a signed DER object into its three parts, strictly (nothing after it). */
export function splitSigned(der: Uint8Array): SignedParts {
  const outer = expectTag(readTlv(der, 0), TAG.SEQUENCE, "signed object");
  if (outer.end !== der.length) throw new Error(`signed object: ${der.length - outer.end} bytes after the end`);
  const parts = children(der, outer);
  if (parts.length !== 3) throw new Error(`signed object: expected 3 elements, found ${parts.length}`);
  expectTag(parts[0], TAG.SEQUENCE, "tbs");
  expectTag(parts[1], TAG.SEQUENCE, "signatureAlgorithm");
  expectTag(parts[2], TAG.BIT_STRING, "signature");
  const sig = content(der, parts[2]);
  if (sig[0] !== 0) throw new Error("signature: unused bits must be 0");
  return { tbs: Buffer.from(raw(der, parts[0])), signatureAlgorithm: Buffer.from(raw(der, parts[1])), signature: Buffer.from(sig.subarray(1)) };
}

/** Fields of a TBSCertificate the ceremonies need to read back (subject, SPKI, validity). */
export interface TbsFields {
  readonly serial: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly spki: Buffer;
}

export function readTbsCertificate(tbs: Uint8Array): TbsFields {
  const outer = expectTag(readTlv(tbs, 0), TAG.SEQUENCE, "TBSCertificate");
  let f = children(tbs, outer);
  if (f[0]?.tag === 0xa0) f = f.slice(1);
  return {
    serial: content(tbs, expectTag(f[0], TAG.INTEGER, "serialNumber")),
    signatureAlgorithm: raw(tbs, f[1]),
    issuer: raw(tbs, expectTag(f[2], TAG.SEQUENCE, "issuer")),
    subject: raw(tbs, expectTag(f[4], TAG.SEQUENCE, "subject")),
    spki: raw(tbs, expectTag(f[5], TAG.SEQUENCE, "subjectPublicKeyInfo")),
  };
}

/** CSR parts: the subject, the SPKI, and whether its self-signature verifies (proof of possession,
 *  RFC 2986 3). */
export function readCsr(der: Uint8Array): { subject: Buffer; spki: Buffer; signatureValid: boolean } {
  const { tbs, signatureAlgorithm, signature } = splitSigned(der);
  const f = children(tbs, readTlv(tbs, 0));
  const subject = raw(tbs, expectTag(f[1], TAG.SEQUENCE, "subject"));
  const spki = raw(tbs, expectTag(f[2], TAG.SEQUENCE, "subjectPublicKeyInfo"));
  return { subject, spki, signatureValid: verifySignature(tbs, signatureAlgorithm, signature, spki) };
}

const SIG_HASH: Record<string, string> = {
  "300a06082a8648ce3d040302": "sha256",
  "300a06082a8648ce3d040303": "sha384",
  "300a06082a8648ce3d040304": "sha512",
  "300d06092a864886f70d01010b0500": "sha256",
  "300d06092a864886f70d01010c0500": "sha384",
  "300d06092a864886f70d01010d0500": "sha512",
};

/** The hash of a signature AlgorithmIdentifier, for the algorithms BR 7.1.3.2 allows. */
export function signatureHash(algorithmDer: Uint8Array): string {
  const h = SIG_HASH[Buffer.from(algorithmDer).toString("hex")];
  if (!h) throw new Error(`unsupported signature algorithm ${Buffer.from(algorithmDer).toString("hex")} (BR 7.1.3.2)`);
  return h;
}

export function publicKeyObject(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
}

/** Verifies `signature` over `tbs` with the key `spki` (DER ECDSA-Sig-Value or PKCS#1 v1.5). */
export function verifySignature(tbs: Uint8Array, algorithmDer: Uint8Array, signature: Uint8Array, spki: Uint8Array): boolean {
  try {
    return nodeVerify(signatureHash(algorithmDer), tbs, publicKeyObject(spki), signature);
  } catch {
    return false;
  }
}

export function pem(label: "CERTIFICATE" | "X509 CRL" | "CERTIFICATE REQUEST" | "PUBLIC KEY", der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The DER of the first PEM block with `label` (or the input itself when it is DER). */
export function fromPem(text: Buffer, label: string): Buffer {
  const s = text.toString("latin1");
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(s);
  if (m) return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
  if (text[0] === 0x30) return text;
  throw new Error(`no PEM block "${label}" found`);
}

/** SHA-256 of the SubjectPublicKeyInfo, as custodians compare it on screen and on paper. */
export const spkiSha256 = (spki: Uint8Array): string => sha256Hex(spki);
