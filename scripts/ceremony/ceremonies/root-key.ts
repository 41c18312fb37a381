/** `root-key`: the offline root's key pair, generated in the HSM (sensitive, non-extractable). */
import pc from "picocolors";
import { spkiSha256, toPem } from "@lanic-ca/pki-services/pki/index";
import { CeremonyError, type CeremonyContext } from "../context.js";
import type { RootKey } from "../schema.js";

export async function rootKey(x: CeremonyContext<RootKey>): Promise<void> {
  const { file: c, transcript: t } = x;
  const tok = await x.openHsm();
  const k = await t.step(`Generating ${c.key.algorithm} key pair "${c.key.label}" in the HSM`, () => tok.generateKeyPair(c.key.label, c.key.algorithm));
  const a = await tok.keyAttributes(c.key.label);
  if (!a.sensitive || a.extractable || !a.token) throw new CeremonyError(`key "${c.key.label}" is not a sensitive, non-extractable token object`);
  t.add("key", `root key ${c.key.label}: SPKI SHA-256 ${spkiSha256(k.spki)}`, { label: c.key.label, algorithm: c.key.algorithm, token: c.hsm.tokenLabel, spkiSha256: spkiSha256(k.spki), attributes: a });
  x.say(`    SPKI SHA-256 ${pc.bold(spkiSha256(k.spki))}`);
  x.spkiSha256 = spkiSha256(k.spki);
  await x.writeOut("publicKey", toPem(k.spki, "PUBLIC KEY"));
}
