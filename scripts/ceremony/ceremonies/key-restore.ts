/** `key-restore` (ADR 0081, 0082): a CA key from its backup media into a token that does not hold
 *  its label. M custodians rebuild the wrapping key from their shares (checked against the
 *  media's share register before the HSM is touched); it lives in the token only as a session
 *  object for the one C_UnwrapKey; the public key is recreated from the media's SPKI, and a
 *  signature by the restored key must verify with that SPKI. */
import { randomBytes } from "node:crypto";
import { spkiSha256, toPem, verifySignature } from "@lanic-ca/pki-services/pki/index";
import { CeremonyError, type CeremonyContext } from "../context.js";
import { collectShares } from "../quorum.js";
import type { KeyRestore } from "../schema.js";
import { readMedia } from "./key-backup.js";

export async function keyRestore(x: CeremonyContext<KeyRestore>): Promise<void> {
  const { file: c, transcript: t, prompter } = x;
  const mediaPath = x.inputs["inputs.media"];
  const m = await t.step("Reading the backup media", () => {
    const m = readMedia(mediaPath);
    if (m.environment !== c.environment) throw new CeremonyError(`backup media ${mediaPath} is for environment '${m.environment}', not '${c.environment}'`);
    if (m.label !== c.key.label || m.algorithm !== c.key.algorithm)
      throw new CeremonyError(`backup media ${mediaPath} holds key "${m.label}" (${m.algorithm}), not "${c.key.label}" (${c.key.algorithm}) as the ceremony file says`);
    return m;
  });
  t.add("key", `backed-up key ${m.label}: SPKI SHA-256 ${m.spkiSha256}`, { label: m.label, algorithm: m.algorithm, spkiSha256: m.spkiSha256, sourceToken: m.sourceToken, backedUpAt: m.createdAt });
  const tok = await x.openHsm();
  await t.step(`Checking that token "${c.hsm.tokenLabel}" does not hold "${m.label}"`, async () => {
    if (await tok.hasKey(m.label)) throw new CeremonyError(`token "${c.hsm.tokenLabel}" already holds an object labelled "${m.label}"; a restore never replaces a key (restore into a fresh token); nothing was unwrapped`);
  });
  const w = m.wrappingKey;
  const { secret: wrappingKey } = await t.step(`Collecting ${w.threshold} custodians' shares of the wrapping key of "${m.label}"`, () => collectShares(prompter, w, mediaPath, t));
  const spki = Buffer.from(m.spki, "base64");
  try {
    await t.step(`Unwrapping "${m.label}" into token "${c.hsm.tokenLabel}" (C_UnwrapKey, ${m.mechanism}) and recreating its public key from the SPKI`, () =>
      tok.unwrapKey(Buffer.from(m.wrapped, "base64"), m.label, m.algorithm, wrappingKey, spki),
    );
  } finally {
    wrappingKey.fill(0);
  }
  const signer = await x.signerFor(tok, m.label, m.algorithm);
  await t.step("Signing a random challenge with the restored key and verifying it with the backed-up SPKI", async () => {
    if (!signer.spki.equals(spki)) throw new CeremonyError(`the restored public key (SPKI SHA-256 ${spkiSha256(signer.spki)}) is not the backed-up one (${m.spkiSha256})`);
    const challenge = randomBytes(32);
    if (!verifySignature(challenge, signer.signatureAlgorithm, await signer.sign(challenge), spki))
      throw new CeremonyError(`the restored private key does not match the backed-up public key (SPKI SHA-256 ${m.spkiSha256})`);
  });
  await x.writeOut("publicKey", toPem(spki, "PUBLIC KEY"));
}
