import { createVerify, verify as nodeVerify } from "node:crypto";
import { renameSync } from "node:fs";
import { join } from "node:path";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSoftHsmToken, type SoftHsmToken } from "../src/lab/softhsm.js";
import { hsmWebCrypto, HsmUnavailableError, Pkcs11Token, ALGORITHMS } from "../src/pkcs11/index.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let hsm: SoftHsmToken;
let token: Pkcs11Token;
let wrongPin: unknown;

beforeAll(async () => {
  tmp = tempDir("pkcs11");
  hsm = createSoftHsmToken({ dir: tmp.dir, tokenLabel: "test-ca" });
  // Login is per process and token: try the wrong PIN before anyone is logged in.
  wrongPin = await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin: "0000" }).catch((e: Error) => e);
  token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin: hsm.pin, poolSize: 4 });
});
afterAll(() => {
  token?.close();
  tmp?.cleanup();
});

describe("Pkcs11Token on SoftHSM2", () => {
  it("refuses a wrong PIN with a clear reason", async () => {
    expect(wrongPin).toBeInstanceOf(HsmUnavailableError);
    expect((wrongPin as Error).message).toBe('login to token "test-ca" refused: CKR_PIN_INCORRECT (CKR_PIN_INCORRECT)');
  });

  it("refuses a token label that is not present", async () => {
    await expect(Pkcs11Token.open({ library: hsm.library, tokenLabel: "nope", pin: hsm.pin })).rejects.toThrow('no token labelled "nope" is present');
  });

  it.each(["ECDSA_P256", "ECDSA_P384", "RSA_3072"] as const)("generates a %s key inside the token that can never leave it", async (alg) => {
    const label = `key-${alg}`;
    const { spki, publicKey } = await token.generateKeyPair(label, alg);
    expect(publicKey.asymmetricKeyType).toBe(alg.startsWith("RSA") ? "rsa" : "ec");
    expect(spki.length).toBeGreaterThan(60);
    expect(await token.keyAttributes(label)).toEqual({ sensitive: true, extractable: false, token: true, private: true });
    await expect(token.generateKeyPair(label, alg)).rejects.toThrow(`already holds an object labelled "${label}"`);
    // Signatures verify with the public key read from the token (X.509 DER signature form).
    const signer = await token.signer(label, alg);
    const tbs = Buffer.from("to be signed");
    const sig = await signer.sign(tbs);
    expect(nodeVerify(ALGORITHMS[alg].hash, tbs, publicKey, sig)).toBe(true);
    expect(nodeVerify(ALGORITHMS[alg].hash, Buffer.from("other"), publicKey, sig)).toBe(false);
  });

  it("refuses a key whose algorithm differs from the configuration", async () => {
    await expect(token.signer("key-ECDSA_P256", "ECDSA_P384")).rejects.toThrow('key "key-ECDSA_P256" is not on P-384');
    await expect(token.signer("key-ECDSA_P256", "RSA_3072")).rejects.toThrow('key "key-ECDSA_P256" is not an RSA key');
    await expect(token.signer("missing", "RSA_3072")).rejects.toThrow('holds 0 private and 0 public keys labelled "missing"');
  });

  it("signs 200 requests concurrently through a pool of 4 sessions (no CKR_OPERATION_ACTIVE)", async () => {
    const signer = await token.signer("key-ECDSA_P256", "ECDSA_P256");
    const msgs = Array.from({ length: 200 }, (_, i) => Buffer.from(`msg ${i}`));
    const sigs = await Promise.all(msgs.map((m) => signer.sign(m)));
    for (const [i, s] of sigs.entries()) expect(createVerify("sha256").update(msgs[i]).verify(signer.publicKey, s)).toBe(true);
    expect((await token.health()).ok).toBe(true);
  });

  it("gives @peculiar/x509 a WebCrypto that signs with the HSM key (self-signed cert verified by openssl)", async () => {
    const signer = await token.signer("key-ECDSA_P384", "ECDSA_P384");
    const hc = await hsmWebCrypto(signer);
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: "01a2b3c4d5e6f708",
        name: "CN=Test Root",
        notBefore: new Date("2025-01-01T00:00:00Z"),
        notAfter: new Date("2035-01-01T00:00:00Z"),
        keys: { privateKey: hc.privateKey, publicKey: hc.publicKey },
        signingAlgorithm: hc.signingAlgorithm,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
      },
      hc.crypto,
    );
    expect(await cert.verify({ signatureOnly: true }, hc.crypto)).toBe(true);
    const pem = join(hsm.dir, "root.pem");
    writeFileSync(pem, cert.toString("pem"));
    expect(execFileSync("openssl", ["verify", "-CAfile", pem, pem]).toString()).toBe(`${pem}: OK\n`);
  });

  it("reports unavailable when the token goes away and recovers by itself when it is back", async () => {
    const signer = await token.signer("key-ECDSA_P256", "ECDSA_P256");
    const tokens = join(hsm.dir, "tokens");
    renameSync(tokens, `${tokens}.away`);
    try {
      const err = await signer.sign(Buffer.from("x")).catch((e) => e);
      expect(err).toBeInstanceOf(HsmUnavailableError);
      expect(err.message).toMatch(/^HSM unavailable: CKR_/);
      const h = await token.health();
      expect(h.ok).toBe(false);
      expect(h.reason).toMatch(/CKR_GENERAL_ERROR/);
      await expect(signer.sign(Buffer.from("y"))).rejects.toBeInstanceOf(HsmUnavailableError);
    } finally {
      renameSync(`${tokens}.away`, tokens);
    }
    expect((await token.health()).ok).toBe(true);
    const sig = await signer.sign(Buffer.from("back"));
    expect(createVerify("sha256").update("back").verify(signer.publicKey, sig)).toBe(true);
  });
});
