/** `root-key`: the offline root's key pair, generated in the HSM (sensitive, non-extractable; with
 *  `key.backup`, extractable only wrapped under a trusted key, ADR 0081). */
import pc from "picocolors";
import { spkiSha256, toPem } from "@lanic-ca/pki-services/pki/index";
import { CeremonyError, type CeremonyContext } from "../context.js";
import { backupAttributes } from "../hsm.js";
import type { RootKey } from "../schema.js";

export async function rootKey(x: CeremonyContext<RootKey>): Promise<void> {
  const { file: c, transcript: t } = x;
  const tok = await x.openHsm();
  const backup = c.key.backup === true;
  const k = await t.step(`Generating ${c.key.algorithm} key pair "${c.key.label}" in the HSM${backup ? " for backup (CKA_WRAP_WITH_TRUSTED)" : ""}`, () =>
    tok.generateKeyPair(c.key.label, c.key.algorithm, backup ? { backup } : {}),
  );
  const a = backup ? { ...(await tok.keyAttributes(c.key.label)), ...backupAttributes(c.hsm, c.key.label) } : await tok.keyAttributes(c.key.label);
  if (!a.sensitive || !a.token) throw new CeremonyError(`key "${c.key.label}" is not a sensitive token object`);
  if (backup ? !("wrapWithTrusted" in a && a.wrapWithTrusted) : a.extractable)
    throw new CeremonyError(backup ? `key "${c.key.label}" is not CKA_WRAP_WITH_TRUSTED: it could be wrapped under an untrusted key` : `key "${c.key.label}" is extractable`);
  t.add("key", `root key ${c.key.label}: SPKI SHA-256 ${spkiSha256(k.spki)}`, { label: c.key.label, algorithm: c.key.algorithm, token: c.hsm.tokenLabel, spkiSha256: spkiSha256(k.spki), attributes: a });
  x.say(`    SPKI SHA-256 ${pc.bold(spkiSha256(k.spki))}`);
  x.spkiSha256 = spkiSha256(k.spki);
  await x.writeOut("publicKey", toPem(k.spki, "PUBLIC KEY"));
}
