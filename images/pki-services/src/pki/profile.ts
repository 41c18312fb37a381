/**
 * A profile compiled against its issuing CA: every extension that does not depend on the
 * subscriber is encoded once here, so issuing a certificate only concatenates bytes.
 */
import { EKU_OIDS, type Profile } from "../config/schema.js";
import { ALGORITHMS } from "../pkcs11/algorithms.js";
import type { KeyAlgorithm } from "../config/schema.js";
import { keyUsageFor, type KeyFamily } from "../config/cp-rules.js";
import { ext, EXT } from "./certificate.js";
import { children, content, expectTag, oid, oidToString, raw, readTlv, TAG } from "./der.js";
import { keyIdentifierOfBits } from "./key-id.js";

export { EXT };

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
  /** certificatePolicies of the CA certificate (OIDs), undefined when it has none. */
  readonly policies?: readonly string[];
  /** extendedKeyUsage of the CA certificate (OIDs), undefined when it has none. */
  readonly extendedKeyUsage?: readonly string[];
}

/** Reads subject, SPKI and SKI from the CA certificate (DER). */
export function issuerFromCertificate(der: Buffer, keyAlgorithm: KeyAlgorithm, urls: IssuerInfo["urls"]): IssuerInfo {
  const cert = expectTag(readTlv(der, 0), TAG.SEQUENCE, "Certificate");
  const [tbsT] = children(der, cert);
  const f = children(der, tbsT);
  const i = f[0].tag === 0xa0 ? 1 : 0; // [0] version
  const subjectT = f[i + 4];
  const spkiT = f[i + 5];
  const spki = raw(der, spkiT);
  const [, keyBitsT] = children(der, spkiT);
  let keyIdentifier: Buffer | undefined;
  let policies: string[] | undefined;
  let extendedKeyUsage: string[] | undefined;
  const extsT = f.find((t) => t.tag === 0xa3);
  if (extsT) {
    for (const ext of children(der, children(der, extsT)[0])) {
      const parts = children(der, ext);
      const id = oidToString(content(der, parts[0]));
      const v = content(der, parts[parts.length - 1]);
      if (id === EXT.subjectKeyIdentifier) keyIdentifier = content(v, readTlv(v, 0));
      // RFC 5280 4.2.1.4 PolicyInformation: policyIdentifier first.
      else if (id === EXT.certificatePolicies) policies = children(v, readTlv(v, 0)).map((pi) => oidToString(content(v, children(v, pi)[0])));
      else if (id === EXT.extKeyUsage) extendedKeyUsage = children(v, readTlv(v, 0)).map((k) => oidToString(content(v, k)));
    }
  }
  // The CA certificate has no SKI: the identifier of its key (key-id.ts, RFC 7093 2 method 1).
  keyIdentifier ??= keyIdentifierOfBits(content(der, keyBitsT).subarray(1));
  return { subjectDer: raw(der, subjectT), keyIdentifier, spki, keyAlgorithm, urls, policies, extendedKeyUsage };
}

/**
 * Why the CA certificate does not cover what `profile` issues, checked before anything is signed
 * (the issuing CA refuses to start):
 * - every policy the profile asserts must be asserted by the CA certificate (anyPolicy is never
 *   used: our subordinate CAs are policy-restricted, BR 7.1.2.10.5), or RFC 5280 6.1.3 (d)-(e)
 *   leaves an empty valid_policy_tree and `openssl verify -policy_check -explicit_policy`, NSS
 *   with a required policy and document validators reject the certificate;
 * - when the CA certificate has extendedKeyUsage, it must contain each of the profile's EKUs
 *   (OpenSSL, GnuTLS and NSS treat an intermediate's EKU as a constraint on its path); the OCSP
 *   responder certificate of a TLS CA is the exception: BR 7.1.2.10.6 forbids id-kp-OCSPSigning in
 *   a TLS CA, and RFC 6960 4.2.2.2 authorizes the responder by its issuer directly (ADR 0070).
 * A CA certificate without certificatePolicies (lab and test CAs) is not checked for policies:
 * the ceremony lint refuses such a subordinate CA (scripts/ceremony/lint.ts, BR 7.1.2.10.5).
 */
export function issuerCoverageProblems(name: string, profile: Profile, issuer: IssuerInfo): string[] {
  const out: string[] = [];
  const ocspResponder = profile.kind === "ocsp-signing";
  if (issuer.policies && !ocspResponder) {
    const missing = profile.policyOids.filter((o) => !issuer.policies!.includes(o));
    if (missing.length)
      out.push(
        `profile "${name}" asserts ${missing.join(", ")}, which the issuing CA's certificate does not assert (it asserts ${issuer.policies.join(", ") || "none"}): RFC 5280 6.1.3 would leave an empty policy tree and relying parties requiring that policy reject every certificate; certify the CA with every policy its profiles assert (BR 7.1.2.10.5)`,
      );
  }
  if (issuer.extendedKeyUsage) {
    const ca = issuer.extendedKeyUsage;
    const tlsCa = ca.includes(EKU_OIDS.serverAuth);
    for (const e of profile.extendedKeyUsage) {
      if (ca.includes(EKU_OIDS[e])) continue;
      if (e === "ocspSigning" && tlsCa) continue; // BR 7.1.2.10.6 (see above)
      out.push(
        e === "ocspSigning"
          ? `profile "${name}" certifies an OCSP responder, but the issuing CA's extendedKeyUsage lacks id-kp-OCSPSigning: strict verifiers (GnuTLS) refuse the responder; a non-TLS CA that certifies its own responder asserts it (ADR 0070)`
          : `profile "${name}" asserts ${e}, which the issuing CA's extendedKeyUsage does not contain (${ca.join(", ")}): verifiers reject the certificate (BR 7.1.2.10.6, MRSP 5.3)`,
      );
    }
  }
  return out;
}

export interface CompiledProfile {
  readonly name: string;
  readonly profile: Profile;
  readonly issuer: IssuerInfo;
  /** signature AlgorithmIdentifier || issuer Name, constant per CA (checked by the TBS lint). */
  readonly sigAlgAndIssuer: Buffer;
  readonly signatureAlgorithm: Buffer;
  /** The constant extensions, each a DER Extension, in order, for a subject key of each family:
   *  keyUsage follows the key type (RFC 8813 3, BR 7.1.2.7.11). */
  readonly constantExtensions: Readonly<Record<KeyFamily, Buffer>>;
  /** Extension OIDs a certificate under this profile may carry (for the TBS lint). */
  readonly allowedExtensions: ReadonlySet<string>;
  /** The same as DER OID contents in latin1 (compared without decoding). */
  readonly allowedExtensionKeys: ReadonlySet<string>;
  /** BR 7.1.2.7.6: SKI NOT RECOMMENDED in TLS subscriber certificates; RFC 5280 4.2.1.2 SHOULD elsewhere. */
  readonly includeSubjectKeyIdentifier: boolean;
}

/** The key family of a DER SubjectPublicKeyInfo (rsaEncryption or id-ecPublicKey), if either. */
export function spkiKeyFamily(spki: Uint8Array): KeyFamily | undefined {
  try {
    const [alg] = children(spki, readTlv(spki, 0));
    const [o] = children(spki, alg);
    const id = oidToString(content(spki, o));
    return id === "1.2.840.113549.1.1.1" ? "RSA" : id === "1.2.840.10045.2.1" ? "EC" : undefined;
  } catch {
    return undefined;
  }
}

export function compileProfile(name: string, profile: Profile, issuer: IssuerInfo): CompiledProfile {
  const before: Buffer[] = [];
  const after: Buffer[] = [];
  const allowed = new Set<string>();
  const add = (id: string, encoded: Buffer) => {
    after.push(encoded);
    allowed.add(id);
  };
  const ocspResponder = profile.kind === "ocsp-signing";
  // RFC 5280 4.2.1.9: end-entity, critical so no relying party takes it for a CA (BR 7.1.2.8.4:
  // exactly 3000).
  before.push(ext.basicConstraints(false));
  allowed.add(EXT.basicConstraints);
  // RFC 5280 4.2.1.3: critical; the bits depend on the subject key (below).
  allowed.add(EXT.keyUsage);
  const keyUsageExt = (family: KeyFamily) => ext.keyUsage(keyUsageFor(profile, family));
  // RFC 5280 4.2.1.12 / BR 7.1.2.7.10: not critical; a TSA's is critical (RFC 3161 2.3).
  add(
    EXT.extKeyUsage,
    ext.extKeyUsage(
      profile.extendedKeyUsage.map((e) => EKU_OIDS[e]),
      profile.kind === "time-stamping",
    ),
  );
  // RFC 5280 4.2.1.4, BR 7.1.2.7.9. None on an OCSP responder (BR 7.1.2.8.8: SHOULD NOT).
  if (profile.policyOids.length && !ocspResponder) add(EXT.certificatePolicies, ext.certificatePolicies(profile.policyOids));
  if (!ocspResponder) {
    // RFC 5280 4.2.2.1 / BR 7.1.2.7.7: OCSP first, then caIssuers.
    add(EXT.authorityInfoAccess, ext.authorityInfoAccess({ ocsp: issuer.urls.ocsp, caIssuers: issuer.urls.caIssuers }));
    // RFC 5280 4.2.1.13 / BR 7.1.2.11.2: fullName URI.
    add(EXT.cRLDistributionPoints, ext.crlDistributionPoint(issuer.urls.crl));
  }
  // The OCSP responder certificate carries neither: BR 7.1.2.8.2 (cRLDistributionPoints MUST
  // NOT; authorityInformationAccess NOT RECOMMENDED, 7.1.2.8.3: the relying party already holds
  // the issuer, and id-pkix-ocsp-nocheck means no status is looked up).
  // RFC 5280 4.2.1.1
  add(EXT.authorityKeyIdentifier, ext.authorityKeyIdentifier(issuer.keyIdentifier));
  if (profile.ocspNoCheck) add(EXT.ocspNoCheck, ext.ocspNoCheck());
  const includeSki = profile.kind !== "tls-server";
  if (includeSki) allowed.add(EXT.subjectKeyIdentifier);
  if (profile.subjectAltNames.dns || profile.subjectAltNames.email) allowed.add(EXT.subjectAltName);
  const signatureAlgorithm = ALGORITHMS[issuer.keyAlgorithm].signatureAlgorithmDer;
  const constant = (family: KeyFamily) => Buffer.concat([...before, keyUsageExt(family), ...after]);
  return {
    name,
    profile,
    issuer,
    sigAlgAndIssuer: Buffer.concat([signatureAlgorithm, issuer.subjectDer]),
    signatureAlgorithm,
    constantExtensions: { RSA: constant("RSA"), EC: constant("EC") },
    allowedExtensions: allowed,
    allowedExtensionKeys: new Set([...allowed].map((a) => oid(a).subarray(2).toString("latin1"))),
    includeSubjectKeyIdentifier: includeSki,
  };
}
