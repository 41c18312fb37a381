/** `root-certificate`: the offline root's self-signed certificate (BR 7.1.2.1). */
import { readFileSync } from "node:fs";
import { encodeDn, fromPem, keyIdentifier, spkiSha256, toPem } from "@lanic-ca/pki-services/pki/index";
import { CP_LIMITS } from "../../../policy/cp-limits.js";
import { CeremonyError, type CeremonyContext } from "../context.js";
import type { RootCertificate } from "../schema.js";
import { certify } from "./certify.js";

export async function rootCertificate(x: CeremonyContext<RootCertificate>): Promise<void> {
  const c = x.file;
  const tok = await x.openHsm();
  const signer = await x.signerFor(tok, c.key.label, c.key.algorithm);
  const expected = fromPem(readFileSync(x.inputs["inputs.publicKey"]), "PUBLIC KEY", x.inputs["inputs.publicKey"]);
  if (!expected.equals(signer.spki)) throw new CeremonyError(`the HSM key "${c.key.label}" (SPKI SHA-256 ${spkiSha256(signer.spki)}) is not the public key in inputs.publicKey (SPKI SHA-256 ${spkiSha256(expected)})`);
  const name = encodeDn(c.certificate.subject);
  const ski = keyIdentifier(signer.spki);
  const notBefore = x.notBeforeOf(c.certificate.notBefore);
  const notAfter = x.validity(notBefore, c.certificate.validityDays);
  const der = await certify(x, { issuer: name, subject: name, notBefore, notAfter, spki: signer.spki, ca: {}, keyUsage: ["keyCertSign", "cRLSign"], subjectKeyId: ski, authorityKeyId: ski }, signer, {
    kind: "root",
    issuer: { subject: name, notAfter, subjectKeyId: ski, signatureAlgorithm: signer.signatureAlgorithm },
    pathLength: undefined,
    allowedKeys: CP_LIMITS.rootKeyAlgorithms,
  });
  await x.writeOut("certificate", toPem(der, "CERTIFICATE"), "x509");
  await x.opensslVerify(x.outputs.certificate, x.outputs.certificate);
}
