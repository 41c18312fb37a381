/**
 * Lint of the bytes about to be signed: the TBSCertificate / TBSCertList is parsed back with an
 * independent ASN.1 decoder (@peculiar/asn1-x509, not our encoder) and checked against the BR
 * and CP/CPS profile of its kind. Lint runs before the HSM signs; any problem refuses the
 * signature. (Boulder lints a throw-away-signed copy with zlint; we have no zlint in Node, so
 * the rules that matter for CA certificates and CA CRLs are written out here, each with its
 * section.)
 */
import "reflect-metadata";
import { createPublicKey } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  TBSCertificate,
  TBSCertList,
  type Extension,
  type Name,
} from "@peculiar/asn1-x509";
import { ACCESS_METHOD, ANY_EXTENDED_KEY_USAGE, ANY_POLICY, ATTRIBUTE_OIDS, EXT, keyIdentifier } from "@lanic-ca/pki-services/pki/index";
import { EKU } from "./schema.js";

const OID = {
  ...EXT,
  crlDistributionPoints: EXT.cRLDistributionPoints,
  adOcsp: ACCESS_METHOD.ocsp,
  adCaIssuers: ACCESS_METHOD.caIssuers,
  anyPolicy: ANY_POLICY,
  anyExtendedKeyUsage: ANY_EXTENDED_KEY_USAGE,
  C: ATTRIBUTE_OIDS.C,
  O: ATTRIBUTE_OIDS.O,
  OU: ATTRIBUTE_OIDS.OU,
  CN: ATTRIBUTE_OIDS.CN,
} as const;

export class LintError extends Error {
  constructor(
    readonly what: string,
    readonly problems: string[],
  ) {
    super(`lint refused the ${what} before signing (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "LintError";
  }
}

const DAY = 86_400_000;
const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b as ArrayBuffer).toString("hex");

export type CertKind = "root" | "subordinate" | "cross";

export interface IssuerFacts {
  /** DER of the issuer's subject Name. */
  readonly subject: Buffer;
  readonly notAfter: Date;
  readonly subjectKeyId: Buffer;
  /** DER AlgorithmIdentifier the issuer's key signs with. */
  readonly signatureAlgorithm: Buffer;
}

export interface CertLintContext {
  readonly kind: CertKind;
  readonly signingTime: Date;
  /** For a root: the root itself (self-issued). */
  readonly issuer: IssuerFacts;
  /** Required pathLenConstraint (undefined: must be absent). */
  readonly pathLength?: number;
  /** Allowed subject key algorithms (CP/CPS 6.1.5). */
  readonly allowedKeys: readonly string[];
}

/** "ECDSA_P384" / "RSA_4096"-style name of a SubjectPublicKeyInfo. */
export function keyAlgorithmOf(spki: Uint8Array): string {
  const k = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === "ec") return `ECDSA_${String(d.namedCurve).replace("prime256v1", "P256").replace("secp384r1", "P384").replace("secp521r1", "P521")}`;
  if (k.asymmetricKeyType === "rsa") return `RSA_${d.modulusLength}`;
  return String(k.asymmetricKeyType);
}

function attrs(name: Name): string[] {
  return name.flatMap((rdn) => rdn.map((a) => a.type));
}

function ext(exts: Extension[] | undefined, id: string): Extension | undefined {
  return exts?.find((e) => e.extnID === id);
}

export function lintTbsCertificate(tbsDer: Uint8Array, ctx: CertLintContext): void {
  const p: string[] = [];
  let tbs: TBSCertificate;
  try {
    tbs = AsnConvert.parse(Buffer.from(tbsDer), TBSCertificate);
  } catch (err) {
    throw new LintError("certificate", [`the TBSCertificate does not decode: ${(err as Error).message}`]);
  }
  if (tbs.version !== 2) p.push("version must be v3 (BR 7.1.2.1, 7.1.2.8)");

  const serial = Buffer.from(tbs.serialNumber);
  if (serial[0] & 0x80 || serial.every((b) => b === 0)) p.push("serialNumber must be positive (BR 7.1.2.1)");
  if (serial.length > 20 || (serial.length === 20 && serial[0] >= 0x80)) p.push("serialNumber must be less than 2^159 (BR 7.1.2.1)");
  if (serial.length < 9) p.push("serialNumber must contain at least 64 bits of CSPRNG output (BR 7.1.2.1)");

  if (hex(AsnConvert.serialize(tbs.signature)) !== ctx.issuer.signatureAlgorithm.toString("hex")) p.push("signature algorithm differs from the issuer key's (BR 7.1.3.2)");
  if (hex(AsnConvert.serialize(tbs.issuer)) !== ctx.issuer.subject.toString("hex"))
    p.push(ctx.kind === "root" ? "issuer must be byte-for-byte the subject (BR 7.1.2.1)" : "issuer must be byte-for-byte the issuer certificate's subject (RFC 5280 4.1.2.4)");

  const nb = tbs.validity.notBefore.getTime();
  const na = tbs.validity.notAfter.getTime();
  const t = ctx.signingTime.getTime();
  if (nb.getTime() > t || nb.getTime() < t - DAY) p.push(`notBefore ${nb.toISOString()} must be between one day before the signing time and the signing time ${ctx.signingTime.toISOString()} (BR 7.1.2.1.1, 7.1.2.10.1)`);
  if (na.getTime() <= nb.getTime()) p.push("notAfter must be after notBefore (RFC 5280 4.1.2.5)");
  const days = (na.getTime() - nb.getTime() + 1000) / DAY;
  if (ctx.kind === "root" && (days < 2922 || days > 9132)) p.push(`validity of ${days} days must be between 2922 and 9132 days for a root (BR 7.1.2.1.1)`);
  if (ctx.kind !== "root" && na.getTime() > ctx.issuer.notAfter.getTime())
    p.push(`notAfter ${na.toISOString()} is after the issuer's notAfter ${ctx.issuer.notAfter.toISOString()}: a certificate must not outlive its issuer (CP/CPS 6.3.2)`);

  const subj = attrs(tbs.subject);
  for (const [name, id] of [
    ["countryName", OID.C],
    ["organizationName", OID.O],
    ["commonName", OID.CN],
  ] as const)
    if (!subj.includes(id)) p.push(`subject must contain ${name} (BR 7.1.2.10.2)`);
  if (ctx.kind === "root" && subj.includes(OID.OU)) p.push("subject of a root must not contain organizationalUnitName (BR 7.1.2.10.2)");

  const spki = Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
  const alg = keyAlgorithmOf(spki);
  if (!ctx.allowedKeys.includes(alg)) p.push(`subject key ${alg} is not one of ${ctx.allowedKeys.join(", ")} (CP/CPS 6.1.5, BR 6.1.5, MRSP 5.1)`);
  if (tbs.issuerUniqueID || tbs.subjectUniqueID) p.push("issuerUniqueID and subjectUniqueID must not be present (BR 7.1.2.1)");

  const exts = tbs.extensions ?? [];
  const ids = exts.map((e) => e.extnID);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) p.push(`extension ${id} appears twice (RFC 5280 4.2)`);
  });

  const bcExt = ext(exts, OID.basicConstraints);
  if (!bcExt?.critical) p.push("basicConstraints must be present and critical (BR 7.1.2.1.4, 7.1.2.10.4)");
  else {
    const bc = AsnConvert.parse(bcExt.extnValue, BasicConstraints);
    if (!bc.cA) p.push("basicConstraints cA must be TRUE (BR 7.1.2.10.4)");
    if (bc.pathLenConstraint !== ctx.pathLength)
      p.push(
        ctx.pathLength === undefined ? `pathLenConstraint ${bc.pathLenConstraint} must be absent (BR 7.1.2.1.4)` : `pathLenConstraint must be ${ctx.pathLength}, found ${bc.pathLenConstraint ?? "none"} (CP/CPS 7.1.2)`,
      );
  }

  const kuExt = ext(exts, OID.keyUsage);
  if (!kuExt?.critical) p.push("keyUsage must be present and critical (BR 7.1.2.10.7)");
  else {
    const ku = AsnConvert.parse(kuExt.extnValue, KeyUsage).toNumber();
    if (!(ku & KeyUsageFlags.keyCertSign) || !(ku & KeyUsageFlags.cRLSign)) p.push("keyUsage must assert keyCertSign and cRLSign (BR 7.1.2.10.7)");
    if (ku & ~(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature)) p.push("keyUsage of a CA may assert only digitalSignature, keyCertSign and cRLSign (BR 7.1.2.10.7)");
  }

  const ekuExt = ext(exts, OID.extKeyUsage);
  const ekus = ekuExt ? (AsnConvert.parse(ekuExt.extnValue, ExtendedKeyUsage) as unknown as string[]).map(String) : [];
  if (ctx.kind === "root" && ekuExt) p.push("extKeyUsage must not be present in a root certificate (BR 7.1.2.1.2)");
  if (ctx.kind === "subordinate" || ctx.kind === "cross") {
    if (ekus.includes(OID.anyExtendedKeyUsage)) p.push("extKeyUsage of a CA must not contain anyExtendedKeyUsage (BR 7.1.2.10.6, MRSP 5.3)");
    if (ekus.includes(EKU.serverAuth) && [EKU.codeSigning, EKU.emailProtection, EKU.timeStamping, EKU.ocspSigning].some((e) => ekus.includes(e)))
      p.push("extKeyUsage with serverAuth must not contain codeSigning, emailProtection, timeStamping or id-kp-OCSPSigning (BR 7.1.2.10.6)");
    if (ctx.kind === "subordinate" && ekus.length === 0) p.push("extKeyUsage must be present in a subordinate CA certificate: an issuing CA is restricted to its purpose (BR 7.1.2.10.6, MRSP 5.3, ADR 0070)");
  }

  const skiExt = ext(exts, OID.subjectKeyIdentifier);
  const ski = skiExt ? Buffer.from(AsnConvert.parse(skiExt.extnValue, SubjectKeyIdentifier).buffer) : undefined;
  if (!ski) p.push("subjectKeyIdentifier must be present (BR 7.1.2.1.2, 7.1.2.11.4)");
  if (ski && ctx.kind !== "cross" && !ski.equals(keyIdentifier(spki))) p.push("subjectKeyIdentifier does not match the subject public key (RFC 7093 2)");
  const akiExt = ext(exts, OID.authorityKeyIdentifier);
  const aki = akiExt ? AsnConvert.parse(akiExt.extnValue, AuthorityKeyIdentifier) : undefined;
  if (!aki?.keyIdentifier) p.push("authorityKeyIdentifier with keyIdentifier must be present (BR 7.1.2.1.3, 7.1.2.11.1)");
  else {
    if (aki.authorityCertIssuer || aki.authorityCertSerialNumber) p.push("authorityKeyIdentifier must contain only keyIdentifier (BR 7.1.2.1.3, 7.1.2.11.1)");
    if (!Buffer.from(aki.keyIdentifier.buffer).equals(ctx.issuer.subjectKeyId)) p.push("authorityKeyIdentifier must equal the issuer's subjectKeyIdentifier (BR 7.1.2.1.3, 7.1.2.11.1)");
  }

  const cpExt = ext(exts, OID.certificatePolicies);
  if (ctx.kind === "root" && cpExt) p.push("certificatePolicies is not recommended in a root certificate and refused by our CP (BR 7.1.2.1.2)");
  if (ctx.kind === "subordinate" || ctx.kind === "cross") {
    if (!cpExt) p.push("certificatePolicies must be present in a subordinate CA certificate (BR 7.1.2.10.5, CP/CPS 7.1.6)");
    else {
      const pols = AsnConvert.parse(cpExt.extnValue, CertificatePolicies).map((x) => x.policyIdentifier);
      if (pols.includes(OID.anyPolicy)) p.push("anyPolicy must not be used: our subordinate CAs are policy-restricted (BR 7.1.2.10.5)");
      // BR 7.1.2.10.5: a TLS subordinate CA asserts exactly one CA/B Forum reserved policy identifier.
      const reserved = pols.filter((o) => o.startsWith("2.23.140.1.2.") || o === "2.23.140.1.1");
      if (ekus.includes(EKU.serverAuth) && reserved.length !== 1)
        p.push(`a TLS subordinate CA certificate asserts exactly one CA/Browser Forum reserved policy identifier (2.23.140.1.2.x), found ${reserved.join(", ") || "none"} (BR 7.1.2.10.5)`);
      if (!ekus.includes(EKU.serverAuth) && reserved.length) p.push(`${reserved.join(", ")} is a TLS policy identifier; a CA without serverAuth must not assert it (BR 7.1.6.1)`);
    }
    const cdp = ext(exts, OID.crlDistributionPoints);
    if (!cdp) p.push("cRLDistributionPoints must be present in a subordinate CA certificate (BR 7.1.2.2.3, 7.1.2.3.2)");
    else {
      const dps = AsnConvert.parse(cdp.extnValue, CRLDistributionPoints);
      const uris = dps.flatMap((d) => d.distributionPoint?.fullName?.map((g) => g.uniformResourceIdentifier) ?? []);
      if (uris.length === 0 || uris.some((u) => !u?.startsWith("http://"))) p.push("cRLDistributionPoints must be http:// URLs (BR 7.1.2.11.2)");
    }
  }
  const aiaExt = ext(exts, OID.authorityInfoAccess);
  if (aiaExt) {
    for (const ad of AsnConvert.parse(aiaExt.extnValue, AuthorityInfoAccessSyntax)) {
      if (ad.accessMethod !== OID.adOcsp && ad.accessMethod !== OID.adCaIssuers) p.push(`authorityInformationAccess method ${ad.accessMethod} is not allowed (BR 7.1.2.10.3)`);
      const u = ad.accessLocation.uniformResourceIdentifier;
      if (!u?.startsWith("http://")) p.push("authorityInformationAccess locations must be http:// URLs (BR 7.1.2.10.3)");
    }
  }
  const known = new Set<string>([OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier, OID.certificatePolicies, OID.crlDistributionPoints, OID.authorityInfoAccess]);
  for (const id of ids) if (!known.has(id)) p.push(`extension ${id} is not in our CA profiles (BR 7.1.2.11.5)`);
  if (p.length > 0) throw new LintError("certificate", p);
}

export interface CrlLintContext {
  readonly signingTime: Date;
  readonly issuer: IssuerFacts;
}

export function lintTbsCrl(tbsDer: Uint8Array, ctx: CrlLintContext): void {
  const p: string[] = [];
  let tbs: TBSCertList;
  try {
    tbs = AsnConvert.parse(Buffer.from(tbsDer), TBSCertList);
  } catch (err) {
    throw new LintError("CRL", [`the TBSCertList does not decode: ${(err as Error).message}`]);
  }
  if (tbs.version !== 1) p.push("version must be v2 (RFC 5280 5.1.2.1)");
  if (hex(AsnConvert.serialize(tbs.signature)) !== ctx.issuer.signatureAlgorithm.toString("hex")) p.push("signature algorithm differs from the issuer key's (BR 7.1.3.2)");
  if (hex(AsnConvert.serialize(tbs.issuer)) !== ctx.issuer.subject.toString("hex")) p.push("issuer must be byte-for-byte the issuer certificate's subject (RFC 5280 5.1.2.3)");
  const tu = tbs.thisUpdate.getTime().getTime();
  const t = ctx.signingTime.getTime();
  if (tu > t || tu < t - DAY) p.push("thisUpdate must be between one day before the signing time and the signing time (RFC 5280 5.1.2.4)");
  if (!tbs.nextUpdate) p.push("nextUpdate must be present (RFC 5280 5.1.2.5, BR 7.2.2)");
  else {
    const nu = tbs.nextUpdate.getTime().getTime();
    if (nu - tu > 365 * DAY) p.push(`nextUpdate is ${((nu - tu) / DAY).toFixed(1)} days after thisUpdate, more than 12 months (BR 4.9.7)`);
    if (nu > ctx.issuer.notAfter.getTime()) p.push(`nextUpdate ${new Date(nu).toISOString()} is after the issuer's notAfter ${ctx.issuer.notAfter.toISOString()}: a CRL must not outlive its issuer (CP/CPS 4.9.7)`);
    if (nu <= tu) p.push("nextUpdate must be after thisUpdate (RFC 5280 5.1.2.5)");
  }
  const exts = tbs.crlExtensions ?? [];
  const aki = ext(exts, OID.authorityKeyIdentifier);
  if (!aki || !Buffer.from(AsnConvert.parse(aki.extnValue, AuthorityKeyIdentifier).keyIdentifier?.buffer ?? new ArrayBuffer(0)).equals(ctx.issuer.subjectKeyId))
    p.push("authorityKeyIdentifier must be present and equal the issuer's subjectKeyIdentifier (RFC 5280 5.2.1, BR 7.2.2)");
  if (!ext(exts, OID.cRLNumber)) p.push("cRLNumber must be present (RFC 5280 5.2.3, BR 7.2.2)");
  const serials = (tbs.revokedCertificates ?? []).map((r) => hex(r.userCertificate));
  serials.forEach((s, i) => {
    if (serials.indexOf(s) !== i) p.push(`serial ${s} is listed twice (RFC 5280 5.1.2.6)`);
  });
  if (p.length > 0) throw new LintError("CRL", p);
}
