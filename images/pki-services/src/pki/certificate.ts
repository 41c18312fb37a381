/**
 * The one certificate builder of the CA: the TBSCertificate (RFC 5280 4.1) of every certificate
 * it makes — the issuing CA's end-entity certificates (profile.ts precomputes the constant
 * extensions with the encoders below, issue.ts adds the per-subscriber ones), the ceremonies'
 * root, intermediate, cross and OCSP responder certificates, and the lab's CA certificates —
 * and the extension encoders they share. Signing is signature.ts (signAndVerify).
 */
import { bool, children, content, ctxCons, ctxPrim, expectTag, namedBits, octets, oid, raw, readTlv, seq, smallInt, TAG, time, uint } from "./der.js";

/** Extension and access-method OIDs (RFC 5280 4.2, 5.2; RFC 6960 4.2.2.2.1). */
export const EXT = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  cRLNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
  cRLDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  ocspNoCheck: "1.3.6.1.5.5.7.48.1.5",
} as const;
export const ACCESS_METHOD = { ocsp: "1.3.6.1.5.5.7.48.1", caIssuers: "1.3.6.1.5.5.7.48.2" } as const;
export const ANY_POLICY = "2.5.29.32.0";
export const ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

/** A DER Extension (RFC 5280 4.1); criticality FALSE is omitted (DER default). */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** The extension encoders, each with the criticality its section requires. */
export const ext = {
  /** RFC 5280 4.2.1.9, BR 7.1.2.10.4 / 7.1.2.7.8: critical. `false`: an end entity (empty
   *  SEQUENCE); a CA with an optional pathLenConstraint otherwise. */
  basicConstraints: (ca: false | { readonly pathLength?: number }): Buffer => extension(EXT.basicConstraints, true, !ca ? seq() : ca.pathLength === undefined ? seq(bool(true)) : seq(bool(true), smallInt(ca.pathLength))),
  /** RFC 5280 4.2.1.3, BR 7.1.2.10.7: critical. */
  keyUsage: (names: readonly KeyUsageName[]): Buffer => extension(EXT.keyUsage, true, namedBits(names.map((k) => KEY_USAGE_BITS[k]))),
  /** RFC 5280 4.2.1.12, BR 7.1.2.7.10 / 7.1.2.10.6: not critical; a TSA's is (RFC 3161 2.3). */
  extKeyUsage: (oids: readonly string[], critical = false): Buffer => extension(EXT.extKeyUsage, critical, seq(...oids.map((e) => oid(e)))),
  /** RFC 5280 4.2.1.2 (the identifier: key-id.ts). */
  subjectKeyIdentifier: (id: Uint8Array): Buffer => extension(EXT.subjectKeyIdentifier, false, octets(id)),
  /** RFC 5280 4.2.1.1, BR 7.1.2.11.1: keyIdentifier only. */
  authorityKeyIdentifier: (id: Uint8Array): Buffer => extension(EXT.authorityKeyIdentifier, false, seq(ctxPrim(0, id))),
  /** RFC 5280 4.2.1.4, BR 7.1.2.7.9 / 7.1.2.10.5: policy identifiers without qualifiers. */
  certificatePolicies: (oids: readonly string[]): Buffer => extension(EXT.certificatePolicies, false, seq(...oids.map((p) => seq(oid(p))))),
  /** RFC 5280 4.2.1.13, BR 7.1.2.11.2: one DistributionPoint with a fullName URI. */
  crlDistributionPoint: (url: string): Buffer => extension(EXT.cRLDistributionPoints, false, seq(seq(ctxCons(0, ctxCons(0, ctxPrim(6, Buffer.from(url, "latin1"))))))),
  /** RFC 5280 4.2.2.1, BR 7.1.2.7.7: OCSP first, then caIssuers. */
  authorityInfoAccess: (urls: { readonly ocsp?: string; readonly caIssuers?: string }): Buffer => {
    const ad: Buffer[] = [];
    if (urls.ocsp) ad.push(seq(oid(ACCESS_METHOD.ocsp), ctxPrim(6, Buffer.from(urls.ocsp, "latin1"))));
    if (urls.caIssuers) ad.push(seq(oid(ACCESS_METHOD.caIssuers), ctxPrim(6, Buffer.from(urls.caIssuers, "latin1"))));
    return extension(EXT.authorityInfoAccess, false, seq(...ad));
  },
  /** RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck, NULL. */
  ocspNoCheck: (): Buffer => extension(EXT.ocspNoCheck, false, Buffer.from([TAG.NULL, 0])),
  /** RFC 5280 4.2.1.6: dNSName then rfc822Name entries; critical when the subject is empty. */
  subjectAltName: (dns: readonly string[], email: readonly string[], subjectEmpty: boolean): Buffer =>
    extension(EXT.subjectAltName, subjectEmpty, seq(...dns.map((d) => ctxPrim(2, Buffer.from(d, "latin1"))), ...email.map((m) => ctxPrim(1, Buffer.from(m, "latin1"))))),
};

export interface TbsCertificateInput {
  /** Magnitude of the serial number (serial.ts). */
  readonly serial: Uint8Array;
  /** DER AlgorithmIdentifier the issuer signs with (pkcs11/algorithms.ts, BR 7.1.3.2). */
  readonly signatureAlgorithm: Uint8Array;
  /** DER Name of the issuer, byte for byte the issuer certificate's subject (RFC 5280 4.1.2.4). */
  readonly issuer: Uint8Array;
  readonly notBefore: Date;
  /** Inclusive (RFC 5280 4.1.2.5): N days of validity end one second before notBefore + N days. */
  readonly notAfter: Date;
  /** DER Name (names.ts). */
  readonly subject: Uint8Array;
  /** DER SubjectPublicKeyInfo, copied as is. */
  readonly spki: Uint8Array;
  /** DER Extensions in the order they are written (`ext`); concatenated blocks allowed. */
  readonly extensions: readonly Uint8Array[];
}

const VERSION_3 = ctxCons(0, smallInt(2));

/** TBSCertificate (RFC 5280 4.1), version 3. */
export function buildTbsCertificate(t: TbsCertificateInput): Buffer {
  return seq(VERSION_3, uint(t.serial), Buffer.from(t.signatureAlgorithm), Buffer.from(t.issuer), seq(time(t.notBefore), time(t.notAfter)), Buffer.from(t.subject), Buffer.from(t.spki), ctxCons(3, seq(...t.extensions)));
}

/** What a CA or OCSP responder certificate carries (the ceremonies and the lab). */
export interface CaExtensionsInput {
  /** null: not a CA (basicConstraints omitted, e.g. an OCSP responder); otherwise cA TRUE with
   *  this pathLenConstraint (undefined: none). */
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

/** The extensions of a CA or OCSP responder certificate, in a fixed order. */
export function caExtensions(t: CaExtensionsInput): Buffer[] {
  const exts: Buffer[] = [];
  if (t.ca) exts.push(ext.basicConstraints(t.ca));
  exts.push(ext.keyUsage(t.keyUsage));
  if (t.extendedKeyUsage?.length) exts.push(ext.extKeyUsage(t.extendedKeyUsage));
  exts.push(ext.subjectKeyIdentifier(t.subjectKeyId));
  if (t.authorityKeyId) exts.push(ext.authorityKeyIdentifier(t.authorityKeyId));
  if (t.policies?.length) exts.push(ext.certificatePolicies(t.policies));
  if (t.crlUrl) exts.push(ext.crlDistributionPoint(t.crlUrl));
  if (t.ocspUrl || t.issuerUrl) exts.push(ext.authorityInfoAccess({ ocsp: t.ocspUrl, caIssuers: t.issuerUrl }));
  if (t.ocspNoCheck) exts.push(ext.ocspNoCheck());
  return exts;
}

/** Fields of a TBSCertificate read back (serial magnitude, algorithm, names, key). */
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

/** CertificationRequestInfo (RFC 2986 4.1) with no attributes: the CSRs of the CA's own keys
 *  (ceremonies). Signed with signAndVerify like a certificate; parsed back with csr.ts. */
export const buildCsrInfo = (subject: Uint8Array, spki: Uint8Array): Buffer => seq(smallInt(0), Buffer.from(subject), Buffer.from(spki), Buffer.from([0xa0, 0x00]));
