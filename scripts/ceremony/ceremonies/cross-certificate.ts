/** `cross-certificate`: the offline root certifies an existing CA's subject and key (BR 7.1.2.2),
 *  for a root rollover or the switch from the external root. */
import { keyIdentifier, spkiSha256, toPem } from "@lanic-ca/pki-services/pki/index";
import { CP_LIMITS } from "../../../policy/cp-limits.js";
import { issuerFacts, nameValues, readCertificateFile, type CeremonyContext } from "../context.js";
import { ekuOids, type CrossCertificate } from "../schema.js";
import { certify } from "./certify.js";

export async function crossCertificate(x: CeremonyContext<CrossCertificate>): Promise<void> {
  const c = x.file;
  const issuerCert = readCertificateFile(x.inputs["inputs.issuerCertificate"]);
  const subjectCert = readCertificateFile(x.inputs["inputs.subjectCertificate"]);
  x.transcript.add("key", `cross-certified key: SPKI SHA-256 ${spkiSha256(subjectCert.spki)}`, { subject: nameValues(subjectCert.subject), spkiSha256: spkiSha256(subjectCert.spki) });
  const tok = await x.openHsm();
  const signer = await x.signerFor(tok, c.issuerKey.label, c.issuerKey.algorithm);
  const facts = issuerFacts(issuerCert, signer);
  const notBefore = x.notBeforeOf(c.certificate.notBefore);
  const der = await certify(
    x,
    {
      issuer: issuerCert.subject,
      // BR 7.1.2.2: the same subject and subjectPublicKeyInfo as the existing certificate; its
      // subjectKeyIdentifier too, so that paths build through either certificate.
      subject: subjectCert.subject,
      spki: subjectCert.spki,
      subjectKeyId: subjectCert.subjectKeyId ?? keyIdentifier(subjectCert.spki),
      notBefore,
      notAfter: x.validity(notBefore, c.certificate.validityDays),
      ca: { pathLength: c.certificate.pathLength },
      keyUsage: ["keyCertSign", "cRLSign"],
      extendedKeyUsage: ekuOids(c.certificate.extendedKeyUsage),
      authorityKeyId: facts.subjectKeyId,
      policies: c.certificate.policies,
      crlUrl: c.certificate.crlUrl,
      issuerUrl: c.certificate.issuerUrl,
    },
    signer,
    { kind: "cross", issuer: facts, pathLength: c.certificate.pathLength, allowedKeys: [...new Set([...CP_LIMITS.rootKeyAlgorithms, ...CP_LIMITS.subordinateKeyAlgorithms])] },
  );
  await x.writeOut("certificate", toPem(der, "CERTIFICATE"), "x509");
  await x.opensslVerify(x.inputs["inputs.issuerCertificate"], x.outputs.certificate);
}
