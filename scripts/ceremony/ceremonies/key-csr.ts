/** `issuing-ca-key`, `external-csr`: a key pair in the online HSM partition
 *  (generated, or an existing one) and its CSR, signed by the key itself (RFC 2986). */
import { buildCsrInfo, encodeDn, spkiSha256, toPem } from "@lanic-ca/pki-services/pki/index";
import type { CeremonyContext } from "../context.js";
import type { ExternalCsr, IssuingCaKey } from "../schema.js";

export async function keyCsr(x: CeremonyContext<IssuingCaKey | ExternalCsr>): Promise<void> {
  const c = x.file;
  const tok = await x.openHsm();
  if (c.key.generate) {
    // key.backup: extractable only wrapped under a trusted key (ADR 0081), for the key-backup ceremony.
    const backup = c.key.backup === true;
    await x.transcript.step(`Generating ${c.key.algorithm} key pair "${c.key.label}" in the HSM${backup ? " for backup (CKA_WRAP_WITH_TRUSTED)" : ""}`, () =>
      tok.generateKeyPair(c.key.label, c.key.algorithm, backup ? { backup } : {}),
    );
  }
  const signer = await x.signerFor(tok, c.key.label, c.key.algorithm);
  const der = await x.sign({
    what: "CSR",
    tbs: buildCsrInfo(encodeDn(c.csr.subject), signer.spki),
    signer,
    verifyWith: signer.spki,
    pemLabel: "CERTIFICATE REQUEST",
    record: () => ({ kind: "csr", summary: `CSR for ${c.csr.subject.CN}`, data: { subject: c.csr.subject, spkiSha256: spkiSha256(signer.spki) } }),
  });
  await x.writeOut("publicKey", toPem(signer.spki, "PUBLIC KEY"));
  await x.writeOut("csr", toPem(der, "CERTIFICATE REQUEST"), "req");
}
