/** `quorum-split`: a new activation secret set as the offline token's user PIN (initialise), or
 *  the current one rebuilt from M shares (reshare), split M-of-N among the custodians. */
import pc from "picocolors";
import type { CeremonyContext } from "../context.js";
import { CeremonyError } from "../context.js";
import { initUserPin } from "../hsm.js";
import { collectShares, formatShare, generateSecret, loadRegister, makeRegister, secretToPin, shareFingerprint, splitSecret } from "../quorum.js";
import type { QuorumSplit } from "../schema.js";

export async function quorumSplit(x: CeremonyContext<QuorumSplit>): Promise<void> {
  const { file: c, transcript: t, prompter } = x;
  let secret: Buffer;
  if (c.mode === "initialise") {
    const soPin = await prompter.secret(`Security officer PIN of token "${c.hsm.tokenLabel}" (typing is hidden): `);
    if (!soPin) throw new CeremonyError("no security officer PIN entered");
    secret = generateSecret();
    await t.step("Setting a new random activation secret as the token's user PIN (C_InitPIN)", () => initUserPin(c.hsm, soPin, secretToPin(secret)));
  } else {
    const prev = x.inputs["quorum.register"];
    const old = await t.step("Reading the current share register", () => loadRegister(prev, { environment: c.environment, tokenLabel: c.hsm.tokenLabel }));
    ({ secret } = await t.step(`Collecting ${old.threshold} current custodians' shares`, () => collectShares(prompter, old, prev, t)));
  }
  // The secret opens the token: proves it before anyone walks away with shares of it.
  x.pin = secretToPin(secret);
  await x.openHsm();
  x.closeHsm();
  const shares = await t.step(`Splitting the secret: ${c.quorum.threshold} of ${c.quorum.custodians.length} (Shamir, shamir-secret-sharing)`, () => splitSecret(secret, c.quorum.custodians, c.quorum.threshold));
  const register = makeRegister(c.environment, c.hsm.tokenLabel, c.quorum.threshold, c.quorum.custodians, shares, secret, x.now());
  secret.fill(0);
  for (const [i, cu] of c.quorum.custodians.entries()) {
    await prompter.ask(`\nCustodian ${cu.id} (${cu.name}): alone at the screen, press Enter to see your share `);
    x.say(`\n    ${pc.bold(formatShare(c.environment, cu.id, shares[i]))}\n`);
    await prompter.ask("Copy it onto your share card, check it, then press Enter to clear the screen ");
    prompter.clearScreen();
    t.add("participant", `custodian ${cu.id} (${cu.name}) received a share`, { role: "key-custodian", custodian: cu.id, name: cu.name, shareSha256: shareFingerprint(shares[i]) });
    shares[i].fill(0);
  }
  await x.writeOut("register", `${JSON.stringify(register, null, 2)}\n`);
}
