/**
 * Key backup and restore against SoftHSM2 (ADR 0081, 0082): a root key generated for backup is
 * wrapped under the custodians' trusted key, its token is deleted, the key is restored into a
 * freshly initialised token with M wrapping-key shares, and a CRL signed there with the restored
 * key verifies under the OLD root certificate (OpenSSL). Then the refusals: a key not marked for
 * backup, fewer shares than the quorum, a token already holding the label.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combine } from "shamir-secret-sharing";
import { installTrustedWrappingKey } from "@lanic-ca/pki-services/pkcs11/index";
import { openToken } from "../../scripts/ceremony/hsm.js";
import { parseShare, secretToPin } from "../../scripts/ceremony/quorum.js";
import { verifyTranscript } from "../../scripts/ceremony/transcript.js";
import { type CeremonyFileError, parseCeremonyText } from "../../scripts/ceremony/schema.js";
import { stringify } from "yaml";
import { CeremonyWorkspace, sharesOnScreen } from "./helpers.js";

const custodians = [
  { id: "c1", name: "Custodian One" },
  { id: "c2", name: "Custodian Two" },
  { id: "c3", name: "Custodian Three" },
];
const OLD = "kb-old";
const FRESH = "kb-fresh";
const SO = "so-pin-123";
const ws = new CeremonyWorkspace();
const hsm = (tokenLabel: string) => ({ library: ws.library, tokenLabel });
const quorum = (register: string) => ({ threshold: 2, custodians, register });
const rootKey = { label: "kb-root-key", algorithm: "ECDSA_P384" };
const plainKey = { label: "kb-plain-key", algorithm: "ECDSA_P384" };
const wrapping = { threshold: 2, members: custodians };
const copies = [
  { id: "lanic-safe", location: "LANIC Vientiane, key safe 1" },
  { id: "backup-safe", location: "Backup site Luang Prabang, key safe 1" },
];
/** Enter twice per custodian: see the share, then clear the screen. */
const enters = (n: number) => Array.from({ length: 2 * n }, () => "");
let oldShares: string[] = [];
let freshShares: string[] = [];
let wrapShares: string[] = [];
/** The token's user PIN, rebuilt from activation shares as the ceremony shell does. */
const pinFrom = async (shares: string[]) => secretToPin(await combine(shares.map((s) => new Uint8Array(parseShare(s).share))));

beforeAll(() => {
  ws.setUp(
    [
      { label: OLD, pin: "transport-1", soPin: SO },
      { label: FRESH, pin: "transport-2", soPin: SO },
    ],
    "key-backup-",
  );
});
afterAll(() => ws.tearDown());

const restoreDoc = (name: string) => ({
  type: "key-restore",
  hsm: hsm(FRESH),
  quorum: quorum("fresh-register.json"),
  key: rootKey,
  inputs: { media: "root.key-backup.json" },
  outputs: { publicKey: `${name}.pub.pem`, transcript: `${name}.transcript` },
});

describe("key backup and restore against SoftHSM2", () => {
  it("sets up the old offline token: quorum, a root key generated for backup, its certificate, and a key not for backup", async () => {
    const { screen } = await ws.run("split-old.yaml", [SO, ...enters(3)], {
      type: "quorum-split",
      hsm: hsm(OLD),
      quorum: quorum("old-register.json"),
      mode: "initialise",
      outputs: { transcript: "split-old.transcript" },
    });
    oldShares = sharesOnScreen(screen);
    expect(oldShares).toHaveLength(3);
    const { result } = await ws.run("root-key.yaml", [oldShares[0], oldShares[1]], {
      type: "root-key",
      hsm: hsm(OLD),
      quorum: quorum("old-register.json"),
      key: { ...rootKey, backup: true },
      outputs: { publicKey: "root.pub.pem", transcript: "root-key.transcript" },
    });
    const attrs = JSON.parse(readFileSync(result.transcript.json, "utf8")).entries.find((e: { kind: string }) => e.kind === "key").data.attributes;
    expect(attrs).toMatchObject({ sensitive: true, extractable: true, wrapWithTrusted: true, token: true });
    await ws.run("root-cert.yaml", [oldShares[1], oldShares[2]], {
      type: "root-certificate",
      hsm: hsm(OLD),
      quorum: quorum("old-register.json"),
      key: rootKey,
      inputs: { publicKey: "root.pub.pem" },
      certificate: { subject: { CN: "Backup Test Root CA", O: "LANIC (test)", C: "LA" }, notBefore: "signing-time", validityDays: 3653 },
      outputs: { certificate: "root.pem", transcript: "root-cert.transcript" },
    });
    expect(ws.openssl(["verify", "-x509_strict", "-CAfile", "root.pem", "root.pem"]).trim()).toBe("root.pem: OK");
    await ws.run("plain-key.yaml", [oldShares[0], oldShares[2]], {
      type: "root-key",
      hsm: hsm(OLD),
      quorum: quorum("old-register.json"),
      key: plainKey,
      outputs: { publicKey: "plain.pub.pem", transcript: "plain-key.transcript" },
    });
  });

  it("refuses to back up a key that is not marked for backup, before the security officer is asked", async () => {
    const msg = await ws.refusal("backup-plain.yaml", [oldShares[0], oldShares[1]], {
      type: "key-backup",
      hsm: hsm(OLD),
      quorum: quorum("old-register.json"),
      key: plainKey,
      custodians: wrapping,
      copies,
      outputs: { media: "plain.key-backup.json", mediaRegister: "plain.key-backup-register.json", transcript: "backup-plain.transcript" },
    });
    expect(msg).toContain('key "kb-plain-key" in token "kb-old" is not marked for backup (CKA_EXTRACTABLE false, CKA_WRAP_WITH_TRUSTED false');
    expect(() => readFileSync(join(ws.dir, "plain.key-backup.json"))).toThrow(/ENOENT/);
  });

  it("backs up the root key: media, register of media, wrapping key shares to the custodians and nowhere else", async () => {
    // A wrapping key left by an interrupted backup does not block this one (it is destroyed, and recorded).
    expect(installTrustedWrappingKey({ library: ws.library, tokenLabel: OLD, soPin: SO, label: "key-backup-wrapping-key", key: randomBytes(32) })).toEqual({ leftoversDestroyed: 0 });
    const { result, screen } = await ws.run("backup.yaml", [oldShares[2], oldShares[0], SO, ...enters(3)], {
      type: "key-backup",
      hsm: hsm(OLD),
      quorum: quorum("old-register.json"),
      key: rootKey,
      custodians: wrapping,
      copies,
      outputs: { media: "root.key-backup.json", mediaRegister: "root.key-backup-register.json", transcript: "backup.transcript" },
    });
    wrapShares = sharesOnScreen(screen);
    expect(wrapShares.map((s) => s.split(":")[0])).toEqual(["dev/c1", "dev/c2", "dev/c3"]);
    const media = JSON.parse(readFileSync(join(ws.dir, "root.key-backup.json"), "utf8"));
    expect(media).toMatchObject({ format: "lanic-ca-key-backup/v1", label: rootKey.label, algorithm: rootKey.algorithm, mechanism: "CKM_AES_KEY_WRAP_PAD", sourceToken: OLD });
    expect(media.spkiSha256).toBe(ws.opensslSpkiSha256("root.pub.pem", "pkey"));
    const register = JSON.parse(readFileSync(join(ws.dir, "root.key-backup-register.json"), "utf8"));
    expect(register.what.mediaSha256).toBe(execFileSync("sha256sum", [join(ws.dir, "root.key-backup.json")], { encoding: "utf8" }).split(" ")[0]);
    expect(register.where).toEqual(copies);
    expect(register.custodians.threshold).toBe(2);
    expect(register.custodians.members.map((m: { id: string }) => m.id)).toEqual(["c1", "c2", "c3"]);
    // The shares are nowhere on disk; the wrapping key is gone from the token.
    for (const f of [result.transcript.json, result.transcript.md, join(ws.dir, "root.key-backup.json"), join(ws.dir, "root.key-backup-register.json")])
      for (const s of wrapShares) expect(readFileSync(f, "utf8")).not.toContain(s.split(":")[1]);
    expect(verifyTranscript(result.transcript.json, { markdownPath: result.transcript.md }).ok).toBe(true);
    expect(readFileSync(result.transcript.json, "utf8")).toContain("destroyed 1 wrapping key(s) left in the token by an interrupted backup");
    const tok = await openToken(hsm(OLD), await pinFrom(oldShares.slice(0, 2)));
    try {
      expect(await tok.hasKey("key-backup-wrapping-key")).toBe(false);
      expect(await tok.hasKey(rootKey.label)).toBe(true);
    } finally {
      tok.close();
    }
  });

  it("the old token is wiped", () => {
    execFileSync("softhsm2-util", ["--delete-token", "--token", OLD], { env: { ...process.env, SOFTHSM2_CONF: join(ws.dir, "softhsm2.conf") }, stdio: "pipe" });
    const list = execFileSync("softhsm2-util", ["--show-slots"], { env: { ...process.env, SOFTHSM2_CONF: join(ws.dir, "softhsm2.conf") }, encoding: "utf8" });
    expect(list).not.toContain(OLD);
    expect(list).toContain(FRESH);
  });

  it("refuses a restore with fewer wrapping-key shares than the quorum; nothing is unwrapped", async () => {
    const { screen } = await ws.run("split-fresh.yaml", [SO, ...enters(3)], {
      type: "quorum-split",
      hsm: hsm(FRESH),
      quorum: quorum("fresh-register.json"),
      mode: "initialise",
      outputs: { transcript: "split-fresh.transcript" },
    });
    freshShares = sharesOnScreen(screen);
    const msg = await ws.refusal("restore-short.yaml", [freshShares[0], freshShares[1], wrapShares[0], ""], restoreDoc("restore-short"));
    expect(msg).toContain("quorum not met: 1 of 2 required shares entered (c1)");
  });

  it("restores the root key into the fresh token; the restored public key is the old one", async () => {
    const { result } = await ws.run("restore.yaml", [freshShares[2], freshShares[0], wrapShares[1], wrapShares[2]], restoreDoc("restore"));
    expect(ws.opensslSpkiSha256("restore.pub.pem", "pkey")).toBe(ws.opensslSpkiSha256("root.pub.pem", "pkey"));
    const t = JSON.parse(readFileSync(result.transcript.json, "utf8"));
    expect(t.entries.filter((e: { kind: string }) => e.kind === "participant").map((e: { summary: string }) => e.summary)).toContain("custodian c2 (Custodian Two) entered a valid share");
    // The restored key is as it was: sensitive, never readable, and still only wrappable under a trusted key.
    const tok = await openToken(hsm(FRESH), await pinFrom(freshShares.slice(1)));
    try {
      expect(await tok.keyAttributes(rootKey.label)).toMatchObject({ sensitive: true, extractable: true, token: true, private: true });
    } finally {
      tok.close();
    }
  });

  it("a CRL signed with the restored key verifies under the OLD root certificate (OpenSSL)", async () => {
    await ws.run("crl.yaml", [freshShares[1], freshShares[2]], {
      type: "ca-crl",
      hsm: hsm(FRESH),
      quorum: quorum("fresh-register.json"),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem" },
      crl: { number: 1, thisUpdate: "signing-time", nextUpdateDays: 30 },
      outputs: { crl: "root.crl.pem", transcript: "crl.transcript" },
    });
    const r = ws.opensslStatus(["crl", "-in", "root.crl.pem", "-CAfile", "root.pem", "-noout"]);
    expect(r.status).toBe(0);
    expect(r.stderr + r.stdout).toContain("verify OK");
  });

  it("refuses to restore into a token that already holds the label, before any wrapping-key share is asked", async () => {
    const msg = await ws.refusal("restore-again.yaml", [freshShares[0], freshShares[1]], restoreDoc("restore-again"));
    expect(msg).toContain('token "kb-fresh" already holds an object labelled "kb-root-key"; a restore never replaces a key');
  });
});

describe("key-backup files are checked before any HSM is touched", () => {
  const doc = (patch: Record<string, unknown>) =>
    stringify({
      type: "key-backup",
      environment: "dev",
      description: "test",
      hsm: { library: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "t" },
      key: rootKey,
      custodians: wrapping,
      copies,
      outputs: { media: "m.json", mediaRegister: "r.json", transcript: "t" },
      ...patch,
    });
  const problems = (text: string) => {
    try {
      parseCeremonyText(text, "kb.yaml");
    } catch (err) {
      return (err as CeremonyFileError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };
  it("accepts an online-partition backup (no quorum: the PIN is typed)", () => {
    expect(problems(doc({}))).toEqual([]);
  });
  it.each([
    ["a wrapping key held by one custodian", { custodians: { threshold: 1, members: custodians } }, "custodians.threshold: 1 is below 2: the wrapping key of a CA key backup needs multi-person control (BR 5.2.2, 6.2.2)"],
    ["more shares needed than custodians", { custodians: { threshold: 4, members: custodians } }, "custodians.threshold: 4 is more than the 3 custodians"],
    ["a custodian listed twice", { custodians: { threshold: 2, members: [...custodians, custodians[0]] } }, "custodians.members[3].id: custodian 'c1' is listed twice"],
    ["a copy listed twice", { copies: [...copies, copies[0]] }, "copies[2].id: copy 'lanic-safe' is listed twice"],
    ["no copy", { copies: [] }, "copies: Too small: expected array to have >=1 items"],
  ])("refuses %s", (_what, patch, message) => {
    expect(problems(doc(patch))).toEqual([message]);
  });
});
