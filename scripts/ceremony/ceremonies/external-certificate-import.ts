/** `external-certificate-import` (pilot): the certificate an external root returned for our
 *  issuing CA, checked against our HSM key and our profile before it is written as ours. */
import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, ExtendedKeyUsage, KeyUsage, KeyUsageFlags } from "@peculiar/asn1-x509";
import { ANY_EXTENDED_KEY_USAGE, EXT, sha256Hex, signatureHash, spkiSha256, splitSigned, toPem, verifySignature } from "@lanic-ca/pki-services/pki/index";
import { CeremonyError, DAY, nameValues, readCertificateFile, sameSubject, type CeremonyContext, type CertInfo } from "../context.js";
import { EKU, type ExternalCertificateImport, type Subject } from "../schema.js";

export async function externalCertificateImport(x: CeremonyContext<ExternalCertificateImport>): Promise<void> {
  const c = x.file;
  const t = x.transcript;
  const cert = readCertificateFile(x.inputs["inputs.certificate"]);
  const issuerCert = readCertificateFile(x.inputs["inputs.issuerCertificate"]);
  await t.step("Checking the external root's certificate", () => {
    const fp = sha256Hex(issuerCert.der);
    if (fp !== c.externalRoot.certificateSha256)
      throw new CeremonyError(`the issuer certificate's SHA-256 ${fp} is not the external root's ${c.externalRoot.certificateSha256} (environment rootOfTrust.certificateSha256)`);
    if (!sameSubject(issuerCert.subject, c.externalRoot.subject)) throw new CeremonyError(`the issuer certificate's subject ${JSON.stringify(nameValues(issuerCert.subject))} is not the external root's`);
  });
  const tok = await x.openHsm();
  const signer = await x.signerFor(tok, c.key.label, c.key.algorithm);
  await t.step("Checking the returned certificate against our HSM key and our profile", () => {
    const p = importProblems(cert, issuerCert, signer.spki, c.expect, x.now());
    if (p.length > 0) throw new CeremonyError(`the returned certificate is refused:\n${p.map((m) => `  - ${m}`).join("\n")}`);
  });
  t.add("certificate", `imported certificate ${nameValues(cert.subject).CN}`, {
    subject: nameValues(cert.subject),
    issuer: nameValues(cert.issuer),
    spkiSha256: spkiSha256(cert.spki),
    sha256: sha256Hex(cert.der),
    pem: toPem(cert.der, "CERTIFICATE"),
  });
  // OpenSSL checks the returned certificate (and the external root, -x509_strict) before it
  // is written as ours: a refused import leaves no certificate behind.
  await x.opensslVerify(x.inputs["inputs.issuerCertificate"], x.inputs["inputs.certificate"]);
  await x.writeOut("certificate", toPem(cert.der, "CERTIFICATE"), "x509");
}

/** Checks of a certificate returned by an external CA for our issuing CA (pilot). */
export function importProblems(cert: CertInfo, issuer: CertInfo, hsmSpki: Buffer, expect: { subject: Subject; maxValidityDays: number; pathLength: number; policies: string[] }, at: Date): string[] {
  const p: string[] = [];
  const { tbs, signatureAlgorithm, signature } = splitSigned(cert.der);
  if (!cert.issuer.equals(issuer.subject)) p.push("its issuer is not the external root's subject (RFC 5280 4.1.2.4)");
  let hashAllowed = true;
  try {
    signatureHash(signatureAlgorithm);
  } catch {
    hashAllowed = false;
    p.push(`its signature algorithm (${signatureAlgorithm.toString("hex")}) is not one BR 7.1.3.2 allows`);
  }
  if (hashAllowed && !verifySignature(tbs, signatureAlgorithm, signature, issuer.spki)) p.push("it is not signed by the external root's key");
  if (!cert.spki.equals(hsmSpki)) p.push(`its public key (SPKI SHA-256 ${spkiSha256(cert.spki)}) is not our HSM key (SPKI SHA-256 ${spkiSha256(hsmSpki)})`);
  if (!sameSubject(cert.subject, expect.subject)) p.push(`its subject ${JSON.stringify(nameValues(cert.subject))} is not ${JSON.stringify(expect.subject)}`);
  const days = (cert.notAfter.getTime() - cert.notBefore.getTime() + 1000) / DAY;
  if (days > expect.maxValidityDays) p.push(`its validity of ${Math.round(days)} days is more than ${expect.maxValidityDays} (CP/CPS 6.3.2)`);
  if (at < cert.notBefore || at > cert.notAfter) p.push("it is not valid now");
  if (cert.notAfter > issuer.notAfter) p.push("it outlives the external root (CP/CPS 6.3.2)");
  const exts = cert.cert.tbsCertificate.extensions ?? [];
  const bc = exts.find((e) => e.extnID === EXT.basicConstraints);
  const bcv = bc ? AsnConvert.parse(bc.extnValue, BasicConstraints) : undefined;
  if (!bc?.critical || !bcv?.cA) p.push("basicConstraints must be critical with cA TRUE (BR 7.1.2.10.4)");
  else if (bcv.pathLenConstraint !== expect.pathLength) p.push(`pathLenConstraint must be ${expect.pathLength}, found ${bcv.pathLenConstraint ?? "none"} (CP/CPS 7.1.2)`);
  const ku = exts.find((e) => e.extnID === EXT.keyUsage);
  const kuv = ku ? AsnConvert.parse(ku.extnValue, KeyUsage).toNumber() : 0;
  if (ku && !ku.critical) p.push("keyUsage must be critical (BR 7.1.2.10.7)");
  if (!(kuv & KeyUsageFlags.keyCertSign) || !(kuv & KeyUsageFlags.cRLSign)) p.push("keyUsage must assert keyCertSign and cRLSign (BR 7.1.2.10.7)");
  const eku = exts.find((e) => e.extnID === EXT.extKeyUsage);
  const ekus = eku ? (AsnConvert.parse(eku.extnValue, ExtendedKeyUsage) as unknown as string[]).map(String) : [];
  // Restricted to its purpose (ADR 0070): an EKU without anyExtendedKeyUsage; id-kp-OCSPSigning
  // (its own responder) only in a CA without serverAuth (BR 7.1.2.10.6, MRSP 5.3).
  if (!eku) p.push("extKeyUsage must be present: an issuing CA is restricted to its purpose (BR 7.1.2.10.6, MRSP 5.3)");
  if (ekus.includes(ANY_EXTENDED_KEY_USAGE)) p.push("extKeyUsage of a CA must not contain anyExtendedKeyUsage (BR 7.1.2.10.6, MRSP 5.3)");
  if (ekus.includes(EKU.serverAuth) && [EKU.emailProtection, EKU.timeStamping, EKU.ocspSigning].some((e) => ekus.includes(e)))
    p.push("extKeyUsage with serverAuth must not contain emailProtection, timeStamping or id-kp-OCSPSigning (BR 7.1.2.10.6)");
  const cp = exts.find((e) => e.extnID === EXT.certificatePolicies);
  const pols = cp ? AsnConvert.parse(cp.extnValue, CertificatePolicies).map((q) => q.policyIdentifier) : [];
  // every policy its profiles assert, or RFC 5280 6.1 leaves relying parties an empty policy tree
  for (const o of expect.policies) if (!pols.includes(o)) p.push(`certificatePolicies must contain ${o}, a policy its certificates assert (BR 7.1.2.10.5, RFC 5280 6.1)`);
  const aki = exts.find((e) => e.extnID === EXT.authorityKeyIdentifier);
  if (aki && issuer.subjectKeyId && !Buffer.from(AsnConvert.parse(aki.extnValue, AuthorityKeyIdentifier).keyIdentifier?.buffer ?? new ArrayBuffer(0)).equals(issuer.subjectKeyId))
    p.push("its authorityKeyIdentifier is not the external root's subjectKeyIdentifier (RFC 5280 4.2.1.1)");
  return p;
}
