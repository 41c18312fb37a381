/**
 * A profile compiled against its issuing CA: every extension that does not depend on the
 * subscriber is encoded once here, so issuing a certificate only concatenates bytes.
 */
import { createHash } from "node:crypto";
import { EKU_OIDS, type Profile, type KeyUsage } from "../config/schema.js";
import { ALGORITHMS } from "../pkcs11/algorithms.js";
import type { KeyAlgorithm } from "../config/schema.js";
import { bool, children, content, ctxCons, ctxPrim, expectTag, namedBits, oid, oidToString, octets, raw, readTlv, seq, tlv, TAG } from "./der.js";

export const EXT = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  cRLDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  ocspNoCheck: "1.3.6.1.5.5.7.48.1.5",
} as const;

const KU_BITS: Record<KeyUsage, number> = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4 };

export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** The issuing CA as the certificates it issues see it. */
export interface IssuerInfo {
  /** DER of the CA certificate's subject: the issuer field of every certificate. */
  readonly subjectDer: Buffer;
  /** The CA's subjectKeyIdentifier, copied into authorityKeyIdentifier (RFC 5280 4.2.1.1). */
  readonly keyIdentifier: Buffer;
  /** DER SubjectPublicKeyInfo of the CA key (to verify after signing). */
  readonly spki: Buffer;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly urls: { readonly caIssuers: string; readonly crl: string; readonly ocsp?: string };
}

/** Reads subject, SPKI and SKI from the CA certificate (DER). */
export function issuerFromCertificate(
  der: Buffer,
  keyAlgorithm: KeyAlgorithm,
  urls: IssuerInfo["urls"],
): IssuerInfo {
  const cert = expectTag(readTlv(der, 0), TAG.SEQUENCE, "Certificate");
  const [tbsT] = children(der, cert);
  const f = children(der, tbsT);
  const i = f[0].tag === 0xa0 ? 1 : 0; // [0] version
  const subjectT = f[i + 4];
  const spkiT = f[i + 5];
  const spki = raw(der, spkiT);
  const [, keyBitsT] = children(der, spkiT);
  let keyIdentifier: Buffer | undefined;
  const extsT = f.find((t) => t.tag === 0xa3);
  if (extsT) {
    for (const ext of children(der, children(der, extsT)[0])) {
      const parts = children(der, ext);
      if (oidToString(content(der, parts[0])) === EXT.subjectKeyIdentifier) {
        const v = content(der, parts[parts.length - 1]);
        keyIdentifier = content(v, readTlv(v, 0));
      }
    }
  }
  // RFC 5280 4.2.1.2 method (1) when the CA certificate has no SKI.
  keyIdentifier ??= createHash("sha1").update(content(der, keyBitsT).subarray(1)).digest();
  return { subjectDer: raw(der, subjectT), keyIdentifier, spki, keyAlgorithm, urls };
}

export interface CompiledProfile {
  readonly name: string;
  readonly profile: Profile;
  readonly issuer: IssuerInfo;
  /** [0] { INTEGER 2 } */
  readonly versionDer: Buffer;
  /** signature AlgorithmIdentifier || issuer Name, constant per CA. */
  readonly sigAlgAndIssuer: Buffer;
  readonly signatureAlgorithm: Buffer;
  /** The constant extensions, each a DER Extension, in order. */
  readonly constantExtensions: Buffer;
  /** Extension OIDs a certificate under this profile may carry (for the TBS lint). */
  readonly allowedExtensions: ReadonlySet<string>;
  /** The same as DER OID contents in latin1 (compared without decoding). */
  readonly allowedExtensionKeys: ReadonlySet<string>;
  /** BR 7.1.2.7.6: SKI NOT RECOMMENDED in TLS subscriber certificates; RFC 5280 4.2.1.2 SHOULD elsewhere. */
  readonly includeSubjectKeyIdentifier: boolean;
}

export function compileProfile(name: string, profile: Profile, issuer: IssuerInfo): CompiledProfile {
  const exts: Buffer[] = [];
  const allowed = new Set<string>();
  const add = (id: string, critical: boolean, value: Buffer) => {
    exts.push(extension(id, critical, value));
    allowed.add(id);
  };
  // RFC 5280 4.2.1.9: end-entity, critical so no relying party takes it for a CA.
  add(EXT.basicConstraints, true, seq());
  // RFC 5280 4.2.1.3: critical.
  add(EXT.keyUsage, true, namedBits(profile.keyUsage.map((k) => KU_BITS[k])));
  // RFC 5280 4.2.1.12 / BR 7.1.2.7.10: not critical; a TSA's is critical (RFC 3161 2.3).
  add(EXT.extKeyUsage, profile.kind === "time-stamping", seq(...profile.extendedKeyUsage.map((e) => oid(EKU_OIDS[e]))));
  // RFC 5280 4.2.1.4, BR 7.1.2.7.9
  add(EXT.certificatePolicies, false, seq(...profile.policyOids.map((p) => seq(oid(p)))));
  // RFC 5280 4.2.2.1 / BR 7.1.2.7.7: OCSP first, then caIssuers. The OCSP responder's own
  // certificate carries no OCSP URL (RFC 6960 4.2.2.2.1: it is not checked).
  const aia: Buffer[] = [];
  if (issuer.urls.ocsp && profile.kind !== "ocsp-signing") aia.push(seq(oid("1.3.6.1.5.5.7.48.1"), ctxPrim(6, Buffer.from(issuer.urls.ocsp, "latin1"))));
  aia.push(seq(oid("1.3.6.1.5.5.7.48.2"), ctxPrim(6, Buffer.from(issuer.urls.caIssuers, "latin1"))));
  add(EXT.authorityInfoAccess, false, seq(...aia));
  // RFC 5280 4.2.1.13 / BR 7.1.2.11.2: fullName URI.
  add(EXT.cRLDistributionPoints, false, seq(seq(ctxCons(0, ctxCons(0, ctxPrim(6, Buffer.from(issuer.urls.crl, "latin1")))))));
  // RFC 5280 4.2.1.1
  add(EXT.authorityKeyIdentifier, false, seq(ctxPrim(0, issuer.keyIdentifier)));
  if (profile.ocspNoCheck) add(EXT.ocspNoCheck, false, Buffer.from([TAG.NULL, 0]));
  const includeSki = profile.kind !== "tls-server";
  if (includeSki) allowed.add(EXT.subjectKeyIdentifier);
  if (profile.subjectAltNames.dns || profile.subjectAltNames.email) allowed.add(EXT.subjectAltName);
  const signatureAlgorithm = ALGORITHMS[issuer.keyAlgorithm].signatureAlgorithmDer;
  return {
    name,
    profile,
    issuer,
    versionDer: ctxCons(0, Buffer.from([TAG.INTEGER, 1, 2])),
    sigAlgAndIssuer: Buffer.concat([signatureAlgorithm, issuer.subjectDer]),
    signatureAlgorithm,
    constantExtensions: Buffer.concat(exts),
    allowedExtensions: allowed,
    allowedExtensionKeys: new Set([...allowed].map((a) => oid(a).subarray(2).toString("latin1"))),
    includeSubjectKeyIdentifier: includeSki,
  };
}

export { tlv };
