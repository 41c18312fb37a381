/**
 * M-of-N control of the offline HSM (BR 5.2.2, 6.2.2; NCSSR 1.2.1): the HSM's activation secret
 * (for a PKCS#11 token, its user PIN) is split with Shamir's scheme among the key custodians, by
 * Privy's audited `shamir-secret-sharing`. A ceremony rebuilds it from M shares typed at a prompt
 * by M distinct custodians, uses it to log in, and forgets it.
 *
 * A share reads `<environment>/<custodian>:<hex in groups of 4>:<check>`. The check (8 hex of a
 * SHA-256) catches a mistyped share; the public share register (fingerprints only, written by
 * `ceremony split`) catches a share that is not the one given to that custodian; the secret's
 * commitment in the register catches a set of shares that does not rebuild the secret. All of it
 * before the HSM is touched, so a bad share never costs a PIN retry.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { combine, split } from "shamir-secret-sharing";
import type { Prompter } from "./prompt.js";
import type { Custodian, Quorum } from "./schema.js";
import type { Transcript } from "./transcript.js";
import { sha256Hex } from "@lanic-ca/pki-services/pki/key-id";

export const REGISTER_FORMAT = "lanic-ca-share-register/v1";

export class QuorumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QuorumError";
  }
}

export interface ShareRegister {
  readonly format: typeof REGISTER_FORMAT;
  readonly environment: string;
  readonly tokenLabel: string;
  readonly threshold: number;
  readonly custodians: readonly (Custodian & { shareSha256: string })[];
  /** SHA-256 of a domain-separated encoding of the secret (192 random bits: not guessable). */
  readonly secretSha256: string;
  readonly createdAt: string;
}

/** A fresh activation secret: 24 CSPRNG bytes, used as the PIN in hex (48 characters). */
export function generateSecret(): Buffer {
  return randomBytes(24);
}

export const secretToPin = (secret: Uint8Array): string => Buffer.from(secret).toString("hex");
export const secretCommitment = (secret: Uint8Array): string => sha256Hex(Buffer.concat([Buffer.from("lanic-ca/activation-secret/v1\0"), Buffer.from(secret)]));

const check = (environment: string, custodian: string, share: Uint8Array) => sha256Hex(`${environment}/${custodian}:${Buffer.from(share).toString("hex")}`).slice(0, 8);

export function formatShare(environment: string, custodian: string, share: Uint8Array): string {
  const groups = Buffer.from(share)
    .toString("hex")
    .match(/.{1,4}/g)!
    .join("-");
  return `${environment}/${custodian}:${groups}:${check(environment, custodian, share)}`;
}

export const shareFingerprint = (share: Uint8Array): string => sha256Hex(share);

export interface ParsedShare {
  readonly environment: string;
  readonly custodian: string;
  readonly share: Buffer;
}

const SHARE_RE = /^([a-z0-9-]+)\/([a-z0-9-]+):([0-9a-f-]+):([0-9a-f]{8})$/;

export function parseShare(text: string): ParsedShare {
  const m = SHARE_RE.exec(text.replace(/\s+/g, "").toLowerCase());
  if (!m) throw new QuorumError("not a share (expected <environment>/<custodian>:<hex groups>:<8 hex check>)");
  const [, environment, custodian, hex, sum] = m;
  const share = Buffer.from(hex.replace(/-/g, ""), "hex");
  if (share.length < 2 || hex.replace(/-/g, "").length % 2) throw new QuorumError("not a share (odd or empty hex)");
  if (check(environment, custodian, share) !== sum) throw new QuorumError(`the check digits of the share of '${custodian}' do not match: mistyped?`);
  return { environment, custodian, share };
}

/** Splits `secret` among `custodians`, `threshold` of them needed. */
export async function splitSecret(secret: Uint8Array, custodians: readonly Custodian[], threshold: number): Promise<Buffer[]> {
  const shares = await split(new Uint8Array(secret), custodians.length, threshold);
  return shares.map((s) => Buffer.from(s));
}

export function makeRegister(environment: string, tokenLabel: string, threshold: number, custodians: readonly Custodian[], shares: readonly Uint8Array[], secret: Uint8Array, now: Date): ShareRegister {
  return {
    format: REGISTER_FORMAT,
    environment,
    tokenLabel,
    threshold,
    custodians: custodians.map((c, i) => ({ id: c.id, name: c.name, shareSha256: shareFingerprint(shares[i]) })),
    secretSha256: secretCommitment(secret),
    createdAt: now.toISOString(),
  };
}

/** Reads a share register and checks it is the one for this environment, token and quorum. */
export function loadRegister(path: string, expected: { environment: string; tokenLabel: string; quorum?: Quorum }): ShareRegister {
  let reg: ShareRegister;
  try {
    reg = JSON.parse(readFileSync(path, "utf8")) as ShareRegister;
  } catch (err) {
    throw new QuorumError(`share register ${path}: cannot read: ${(err as Error).message}`);
  }
  if (reg?.format !== REGISTER_FORMAT) throw new QuorumError(`share register ${path}: not a ${REGISTER_FORMAT} document`);
  if (reg.environment !== expected.environment) throw new QuorumError(`share register ${path} is for environment '${reg.environment}', not '${expected.environment}'`);
  if (reg.tokenLabel !== expected.tokenLabel) throw new QuorumError(`share register ${path} is for token "${reg.tokenLabel}", not "${expected.tokenLabel}"`);
  const q = expected.quorum;
  if (q) {
    const ids = (xs: readonly { id: string }[]) =>
      xs
        .map((c) => c.id)
        .sort()
        .join(", ");
    if (reg.threshold !== q.threshold || ids(reg.custodians) !== ids(q.custodians))
      throw new QuorumError(
        `share register ${path} (${reg.threshold} of ${ids(reg.custodians)}) disagrees with the ceremony file's quorum ` + `(${q.threshold} of ${ids(q.custodians)}): re-share, or fix the environment definition`,
      );
  }
  return reg;
}

/**
 * Asks for shares until `register.threshold` distinct custodians have entered a valid one, and
 * returns the rebuilt secret. Refuses (QuorumError) on end of input before the quorum, a share
 * of another environment, an unknown or repeated custodian, a share that is not the registered
 * one, or shares that do not rebuild the registered secret.
 */
export async function collectShares(prompter: Prompter, register: ShareRegister, registerPath: string, transcript?: Transcript): Promise<{ secret: Buffer; custodians: Custodian[] }> {
  const m = register.threshold;
  const entered = new Map<string, Buffer>();
  const cite = "BR 5.2.2, 6.2.2";
  while (entered.size < m) {
    const k = entered.size + 1;
    const text = await prompter.secret(`Share ${k} of ${m} (typing is hidden, Enter to finish): `);
    if (text === undefined || text.trim() === "") {
      throw new QuorumError(`quorum not met: ${entered.size} of ${m} required shares entered` + `${entered.size ? ` (${[...entered.keys()].join(", ")})` : ""}; nothing was done on the HSM (${cite})`);
    }
    let s: ParsedShare;
    try {
      s = parseShare(text);
    } catch (err) {
      throw new QuorumError(`share ${k}: ${(err as Error).message}`);
    }
    if (s.environment !== register.environment) throw new QuorumError(`share ${k}: it is a share for environment '${s.environment}', not '${register.environment}'`);
    const who = register.custodians.find((c) => c.id === s.custodian);
    if (!who) throw new QuorumError(`share ${k}: '${s.custodian}' is not a custodian of this quorum (${register.custodians.map((c) => c.id).join(", ")})`);
    if (entered.has(s.custodian)) throw new QuorumError(`share ${k}: custodian '${s.custodian}' has already entered a share; ${m} distinct custodians are required (${cite})`);
    if (shareFingerprint(s.share) !== who.shareSha256) throw new QuorumError(`share ${k}: the share entered for custodian '${s.custodian}' is not the one registered for them in ${registerPath}`);
    entered.set(s.custodian, s.share);
    transcript?.add("participant", `custodian ${s.custodian} (${who.name}) entered a valid share`, {
      role: "key-custodian",
      custodian: s.custodian,
      name: who.name,
      shareSha256: who.shareSha256,
    });
    prompter.say(`    accepted: ${s.custodian} (${who.name})`);
  }
  const secret = Buffer.from(await combine([...entered.values()].map((b) => new Uint8Array(b))));
  if (secretCommitment(secret) !== register.secretSha256) throw new QuorumError(`the ${m} shares do not rebuild the activation secret recorded in ${registerPath}; nothing was done on the HSM`);
  return { secret, custodians: register.custodians.filter((c) => entered.has(c.id)).map(({ id, name }) => ({ id, name })) };
}
