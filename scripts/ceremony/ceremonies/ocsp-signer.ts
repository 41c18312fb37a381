/** `ocsp-signer`: the offline root's delegated OCSP responder certificate (RFC 6960 4.2.2.2,
 *  id-pkix-ocsp-nocheck). */
import { KEY_ALGORITHMS } from "@lanic-ca/pki-services/config/schema";
import { encodeDn, keyIdentifier, toPem } from "@lanic-ca/pki-services/pki/index";
import { issuerFacts, readCertificateFile, type CeremonyContext } from "../context.js";
import { ekuOids, type OcspSigner } from "../schema.js";
import { certify } from "./certify.js";

export async function ocspSigner(x: CeremonyContext<OcspSigner>): Promise<void> {
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
      issuer: issuerCert.subject, subject: encodeDn(c.certificate.subject), spki, notBefore, notAfter: x.validity(notBefore, c.certificate.validityDays),
      ca: null, keyUsage: ["digitalSignature"], extendedKeyUsage: ekuOids(["ocspSigning"]), ocspNoCheck: true,
      subjectKeyId: keyIdentifier(spki), authorityKeyId: facts.subjectKeyId, issuerUrl: c.certificate.issuerUrl,
    },
    signer,
    { kind: "ocsp-signer", issuer: facts, pathLength: undefined, allowedKeys: KEY_ALGORITHMS },
  );
  await x.writeOut("certificate", toPem(der, "CERTIFICATE"), "x509");
  await x.opensslVerify(x.inputs["inputs.issuerCertificate"], x.outputs.certificate);
}
