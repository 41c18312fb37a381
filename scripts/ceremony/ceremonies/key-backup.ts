/** `key-backup` (ADR 0081, 0082): a CA key marked for backup leaves the HSM only wrapped
 *  (CKM_AES_KEY_WRAP_PAD, RFC 5649) under a fresh AES-256 key that the security officer installs
 *  as CKA_TRUSTED, that is destroyed from the token after the one C_WrapKey, and whose value
 *  exists afterwards only as the custodians' M-of-N shares (BR 5.2.2, 6.2.2; BR 5.7.1.1 (11)).
 *  Outputs: the backup media file and the register of backup media. */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import pc from "picocolors";
import { installTrustedWrappingKey } from "@lanic-ca/pki-services/pkcs11/index";
import { sha256Hex, spkiSha256 } from "@lanic-ca/pki-services/pki/index";
import type { KeyAlgorithm } from "@lanic-ca/pki-services/config/schema";
import { CeremonyError, type CeremonyContext } from "../context.js";
import { backupAttributes } from "../hsm.js";
import { combine } from "shamir-secret-sharing";
import { formatShare, makeRegister, shareFingerprint, splitSecret, type ShareRegister } from "../quorum.js";
import type { KeyBackup } from "../schema.js";

export const MEDIA_FORMAT = "lanic-ca-key-backup/v1";
export const MEDIA_REGISTER_FORMAT = "lanic-ca-key-backup-register/v1";
/** The wrapping key's label while it is in the token (for the one C_WrapKey). */
const WRAPPING_LABEL = "key-backup-wrapping-key";

/** What a backup media file holds: nothing usable without M of the custodians' shares. */
export interface BackupMedia {
  readonly format: typeof MEDIA_FORMAT;
  readonly environment: string;
  readonly label: string;
  readonly algorithm: KeyAlgorithm;
  /** SubjectPublicKeyInfo DER, base64: the public key is recreated from it on restore. */
  readonly spki: string;
  readonly spkiSha256: string;
  readonly mechanism: "CKM_AES_KEY_WRAP_PAD";
  /** The private key wrapped under the custodians' key, base64. */
  readonly wrapped: string;
  /** The token it was backed up from. */
  readonly sourceToken: string;
  /** The wrapping key's share register: custodians, share fingerprints, the key's commitment. */
  readonly wrappingKey: ShareRegister;
  readonly createdAt: string;
}

export async function keyBackup(x: CeremonyContext<KeyBackup>): Promise<void> {
  const { file: c, transcript: t, prompter } = x;
  const k = c.key;
  // 1. The key exists, is the file's algorithm and is marked for backup: refused before the
  //    security officer or the custodians do anything more.
  let tok = await x.openHsm();
  const signer = await x.signerFor(tok, k.label, k.algorithm);
  const spki = signer.spki;
  await t.step(`Checking that key "${k.label}" is marked for backup (CKA_EXTRACTABLE, CKA_WRAP_WITH_TRUSTED, CKA_SENSITIVE)`, () => {
    const a = backupAttributes(c.hsm, k.label);
    t.add("check", `key ${k.label} backup attributes`, { label: k.label, ...a });
    if (!a.extractable || !a.wrapWithTrusted || !a.sensitive)
      throw new CeremonyError(
        `key "${k.label}" in token "${c.hsm.tokenLabel}" is not marked for backup (CKA_EXTRACTABLE ${a.extractable}, CKA_WRAP_WITH_TRUSTED ${a.wrapWithTrusted}, ` +
          `CKA_SENSITIVE ${a.sensitive}): it was not generated with key.backup and cannot leave the HSM (ADR 0081); nothing was wrapped`,
      );
  });
  x.closeHsm();

  // 2. A fresh wrapping key, trusted by the security officer (only the SO may set CKA_TRUSTED).
  const soPin = await prompter.secret(`Security officer PIN of token "${c.hsm.tokenLabel}" (typing is hidden): `);
  if (!soPin) throw new CeremonyError("no security officer PIN entered");
  const wrappingKey = randomBytes(32);
  let wrapped: Buffer;
  try {
    const installed = await t.step("Installing a fresh AES-256 wrapping key as CKA_TRUSTED (security officer login)", () =>
      installTrustedWrappingKey({ library: c.hsm.library, tokenLabel: c.hsm.tokenLabel, soPin, label: WRAPPING_LABEL, key: wrappingKey }),
    );
    if (installed.leftoversDestroyed > 0)
      t.add("check", `destroyed ${installed.leftoversDestroyed} wrapping key(s) left in the token by an interrupted backup`, { label: WRAPPING_LABEL, destroyed: installed.leftoversDestroyed });
    tok = await x.openHsm();
    try {
      wrapped = await t.step(`Wrapping key "${k.label}" (C_WrapKey, CKM_AES_KEY_WRAP_PAD)`, () => tok.wrapKey(k.label, WRAPPING_LABEL));
    } finally {
      await t.step("Destroying the wrapping key in the token", () => tok.destroyWrappingKey(WRAPPING_LABEL));
    }
    x.closeHsm();

    // 3. The wrapping key, split among the custodians; each sees their share alone.
    const w = c.custodians;
    const shares = await t.step(`Splitting the wrapping key: ${w.threshold} of ${w.members.length} (Shamir, shamir-secret-sharing)`, async () => {
      const s = await splitSecret(wrappingKey, w.members, w.threshold);
      // Any M shares rebuild the key (checked on the first M before anyone walks away with them).
      if (!Buffer.from(await combine(s.slice(0, w.threshold).map((b) => new Uint8Array(b)))).equals(wrappingKey)) throw new CeremonyError("the wrapping key's shares do not rebuild it");
      return s;
    });
    const register = makeRegister(c.environment, `${c.hsm.tokenLabel}/${k.label}`, w.threshold, w.members, shares, wrappingKey, x.now());
    for (const [i, cu] of w.members.entries()) {
      await prompter.ask(`\nCustodian ${cu.id} (${cu.name}): alone at the screen, press Enter to see your share of the wrapping key of "${k.label}" `);
      x.say(`\n    wrapping key of ${k.label}: ${pc.bold(formatShare(c.environment, cu.id, shares[i]))}\n`);
      await prompter.ask("Copy it onto a key-backup share card (not your activation card), check it, then press Enter to clear the screen ");
      prompter.clearScreen();
      t.add("participant", `custodian ${cu.id} (${cu.name}) received a share of the wrapping key of ${k.label}`, {
        role: "key-custodian",
        custodian: cu.id,
        name: cu.name,
        shareSha256: shareFingerprint(shares[i]),
        wrappingKeyOf: k.label,
      });
      shares[i].fill(0);
    }

    // 4. The media and the register of backup media.
    const media: BackupMedia = {
      format: MEDIA_FORMAT,
      environment: c.environment,
      label: k.label,
      algorithm: k.algorithm,
      spki: spki.toString("base64"),
      spkiSha256: spkiSha256(spki),
      mechanism: "CKM_AES_KEY_WRAP_PAD",
      wrapped: wrapped.toString("base64"),
      sourceToken: c.hsm.tokenLabel,
      wrappingKey: register,
      createdAt: x.now().toISOString(),
    };
    await x.writeOut("media", `${JSON.stringify(media, null, 2)}\n`);
    const mediaSha256 = sha256Hex(readFileSync(x.outputs.media));
    const entry = {
      format: MEDIA_REGISTER_FORMAT,
      environment: c.environment,
      what: { label: k.label, algorithm: k.algorithm, spkiSha256: media.spkiSha256, sourceToken: c.hsm.tokenLabel, media: basename(x.outputs.media), mediaSha256 },
      where: c.copies,
      custodians: { threshold: w.threshold, members: register.custodians, wrappingKeySha256: register.secretSha256 },
      transcript: basename(c.outputs.transcript),
      createdAt: media.createdAt,
    };
    await x.writeOut("mediaRegister", `${JSON.stringify(entry, null, 2)}\n`);
    x.say(`\n    Copy ${pc.bold(basename(x.outputs.media))} (SHA-256 ${mediaSha256}) onto: ${c.copies.map((m) => `${m.id} (${m.location})`).join(", ")}`);
  } finally {
    wrappingKey.fill(0);
  }
}

/** Reads and checks a backup media file. */
export function readMedia(path: string): BackupMedia {
  let m: BackupMedia;
  try {
    m = JSON.parse(readFileSync(path, "utf8")) as BackupMedia;
  } catch (err) {
    throw new CeremonyError(`backup media ${path}: cannot read: ${(err as Error).message}`);
  }
  if (m?.format !== MEDIA_FORMAT) throw new CeremonyError(`backup media ${path}: not a ${MEDIA_FORMAT} document`);
  const spki = Buffer.from(m.spki, "base64");
  if (spkiSha256(spki) !== m.spkiSha256) throw new CeremonyError(`backup media ${path}: its SPKI does not have the SHA-256 it states (${m.spkiSha256})`);
  if (!m.wrappingKey?.custodians?.length || !m.wrappingKey.secretSha256) throw new CeremonyError(`backup media ${path}: no wrapping-key share register`);
  return m;
}
