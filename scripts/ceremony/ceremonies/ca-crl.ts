/** `ca-crl`: the offline root's CRL of CA certificates (BR 4.9.7, 7.2). */
import { buildTbsCrl, toPem } from "@lanic-ca/pki-services/pki/index";
import { DAY, issuerFacts, readCertificateFile, type CeremonyContext } from "../context.js";
import { lintTbsCrl } from "../lint.js";
import type { CaCrl } from "../schema.js";

export async function caCrl(x: CeremonyContext<CaCrl>): Promise<void> {
  const c = x.file;
  const issuerCert = readCertificateFile(x.inputs["inputs.issuerCertificate"]);
  const tok = await x.openHsm();
  const signer = await x.signerFor(tok, c.issuerKey.label, c.issuerKey.algorithm);
  const facts = issuerFacts(issuerCert, signer);
  const thisUpdate = x.notBeforeOf(c.crl.thisUpdate);
  const tbs = buildTbsCrl({
    signatureAlgorithm: signer.signatureAlgorithm,
    issuer: issuerCert.subject,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + c.crl.nextUpdateDays * DAY),
    number: BigInt(c.crl.number),
    authorityKeyId: facts.subjectKeyId,
    revoked: c.crl.revoked.map((r) => ({ serial: Buffer.from(r.serial.length % 2 ? `0${r.serial}` : r.serial, "hex"), date: new Date(r.revocationDate), reason: r.reason })),
  });
  const der = await x.sign({
    what: "CRL",
    tbs,
    signer,
    verifyWith: issuerCert.spki,
    pemLabel: "X509 CRL",
    lint: () => lintTbsCrl(tbs, { signingTime: x.signingTime, issuer: facts }),
    record: () => ({
      kind: "crl",
      summary: `CRL number ${c.crl.number}, ${c.crl.revoked.length} revoked`,
      data: { number: c.crl.number, thisUpdate: thisUpdate.toISOString(), nextUpdateDays: c.crl.nextUpdateDays, revoked: c.crl.revoked },
    }),
  });
  await x.writeOut("crl", toPem(der, "X509 CRL"), "crl");
  await x.opensslVerifyCrl(x.inputs["inputs.issuerCertificate"], x.outputs.crl);
}
