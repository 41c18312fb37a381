/** `intermediate`: the offline root certifies an issuing CA's key (BR 7.1.2.10). */
import { encodeDn, keyIdentifier, toPem } from "@lanic-ca/pki-services/pki/index";
import { CP_LIMITS } from "../../../policy/cp-limits.js";
import { issuerFacts, readCertificateFile, type CeremonyContext } from "../context.js";
import { ekuOids, type Intermediate } from "../schema.js";
import { certify } from "./certify.js";

export async function intermediate(x: CeremonyContext<Intermediate>): Promise<void> {
  const c = x.file;
  const issuerCert = readCertificateFile(x.inputs["inputs.issuerCertificate"]);
  const spki = await x.subjectKey(c.inputs, c.certificate.subject, c.certificate.keyAlgorithm);
  const tok = await x.openHsm();
  const signer = await x.signerFor(tok, c.issuerKey.label, c.issuerKey.algorithm);
  const facts = issuerFacts(issuerCert, signer);
  const notBefore = x.notBeforeOf(c.certificate.notBefore);
  const der = await certify(
    x,
    {
      issuer: issuerCert.subject,
      subject: encodeDn(c.certificate.subject),
      spki,
      notBefore,
      notAfter: x.validity(notBefore, c.certificate.validityDays),
      ca: { pathLength: c.certificate.pathLength },
      keyUsage: ["keyCertSign", "cRLSign"],
      extendedKeyUsage: ekuOids(c.certificate.extendedKeyUsage),
      subjectKeyId: keyIdentifier(spki),
      authorityKeyId: facts.subjectKeyId,
      policies: c.certificate.policies,
      crlUrl: c.certificate.crlUrl,
      ocspUrl: c.certificate.ocspUrl,
      issuerUrl: c.certificate.issuerUrl,
    },
    signer,
    { kind: "subordinate", issuer: facts, pathLength: c.certificate.pathLength, allowedKeys: CP_LIMITS.subordinateKeyAlgorithms },
  );
  await x.writeOut("certificate", toPem(der, "CERTIFICATE"), "x509");
  await x.opensslVerify(x.inputs["inputs.issuerCertificate"], x.outputs.certificate);
}
