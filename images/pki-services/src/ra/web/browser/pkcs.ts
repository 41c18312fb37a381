/**
 * The subscriber's key, made and kept in the browser (BR 6.1.2: the CA never holds a
 * subscriber's private key): a WebCrypto key pair, its PKCS#10 CSR (RFC 2986), and a
 * password-protected PKCS#12 (RFC 7292) holding the key, the issued certificate and its chain.
 *
 * Pure functions over WebCrypto (`globalThis.crypto`): the same code runs in the browser
 * (bundled by build-static.ts into /static/enroll.js) and in Node for the tests. PKIjs does the
 * ASN.1 (docs/adr/0066-browser-keys-and-pkcs12.md).
 */
import type { webcrypto } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

// WebCrypto's types, named the same in the browser and in Node (no DOM lib in this package).
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

export type BrowserKeyAlgorithm = "ECDSA_P256" | "ECDSA_P384" | "RSA_3072";

const KEYGEN: Record<BrowserKeyAlgorithm, { gen: EcKeyGenParams | RsaHashedKeyGenParams; sign: string }> = {
  ECDSA_P256: { gen: { name: "ECDSA", namedCurve: "P-256" }, sign: "SHA-256" },
  ECDSA_P384: { gen: { name: "ECDSA", namedCurve: "P-384" }, sign: "SHA-384" },
  RSA_3072: { gen: { name: "RSASSA-PKCS1-v1_5", modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, sign: "SHA-256" },
};

function engine(): pkijs.CryptoEngine {
  return new pkijs.CryptoEngine({ name: "webcrypto", crypto: globalThis.crypto });
}

/**
 * A new key pair. The private key is extractable only so that it can be written, encrypted
 * under the holder's password, into the PKCS#12 this browser builds; it is never sent.
 */
export async function generateKeyPair(algorithm: BrowserKeyAlgorithm): Promise<CryptoKeyPair> {
  const spec = KEYGEN[algorithm];
  if (!spec) throw new Error(`key algorithm ${algorithm} is not one of ${Object.keys(KEYGEN).join(", ")}`);
  return globalThis.crypto.subtle.generateKey(spec.gen, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

const toPem = (der: ArrayBuffer, label: string): string => {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
};

const fromPem = (pem: string, label: string): ArrayBuffer => {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`no ${label} in the text`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
};

/**
 * PKCS#10 signed with the new key. The subject is only a label: the RA takes the certificate's
 * subject from the vetted application, never from the CSR (ADR 0060). Returns PEM.
 */
export async function createCsr(keys: CryptoKeyPair, algorithm: BrowserKeyAlgorithm, commonName: string): Promise<string> {
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: "2.5.4.3", value: new asn1js.Utf8String({ value: commonName.slice(0, 64) || "applicant" }) }));
  const crypto = engine();
  await csr.subjectPublicKeyInfo.importKey(keys.publicKey, crypto);
  await csr.sign(keys.privateKey, KEYGEN[algorithm].sign, crypto);
  return toPem(csr.toSchema().toBER(false), "CERTIFICATE REQUEST");
}

export interface Pkcs12Input {
  readonly privateKey: CryptoKey;
  /** The holder's certificate (PEM). */
  readonly certificate: string;
  /** The issuing CA and the root (PEM, one or more certificates). */
  readonly chain: string;
  /** Protects the key (PBES2: PBKDF2-SHA256 + AES-256-CBC) and the file's MAC (HMAC-SHA256). */
  readonly password: string;
  /** What certificate stores show (friendlyName). */
  readonly friendlyName: string;
  /** PBKDF2 iterations. @default 600000 (OWASP's 2023 floor for PBKDF2-HMAC-SHA256) */
  readonly iterations?: number;
}

const BAG = { shroudedKey: "1.2.840.113549.1.12.10.1.2", cert: "1.2.840.113549.1.12.10.1.3" };
const ATTR = { friendlyName: "1.2.840.113549.1.9.20", localKeyId: "1.2.840.113549.1.9.21" };

/** The PKCS#12 file (DER) of key + certificate + chain, as `openssl pkcs12` reads it. */
export async function buildPkcs12(i: Pkcs12Input): Promise<Uint8Array> {
  if (i.password.length < 8) throw new Error("the PKCS#12 password must have at least 8 characters");
  const crypto = engine();
  pkijs.setEngine("browser-keys", crypto);
  const iterations = i.iterations ?? 600_000;
  const password = new TextEncoder().encode(i.password).buffer as ArrayBuffer;
  const leaf = pkijs.Certificate.fromBER(fromPem(i.certificate, "CERTIFICATE"));
  const chain = [...i.chain.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => pkijs.Certificate.fromBER(fromPem(m[0], "CERTIFICATE")));
  // The key's and the certificate's localKeyId: the SHA-1 of the public key (as OpenSSL sets it).
  const localKeyId = await globalThis.crypto.subtle.digest("SHA-1", leaf.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
  const attrs = (withKeyId: boolean, name?: string) => [
    ...(name ? [new pkijs.Attribute({ type: ATTR.friendlyName, values: [new asn1js.BmpString({ value: name })] })] : []),
    ...(withKeyId ? [new pkijs.Attribute({ type: ATTR.localKeyId, values: [new asn1js.OctetString({ valueHex: localKeyId })] })] : []),
  ];
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", i.privateKey);
  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(pkcs8) });
  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0, // password integrity (an HMAC), RFC 7292 4
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            { privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [new pkijs.SafeBag({ bagId: BAG.shroudedKey, bagValue: keyBag, bagAttributes: attrs(true, i.friendlyName) })] }) },
            {
              privacyMode: 1, // the certificates encrypted too (as OpenSSL does)
              value: new pkijs.SafeContents({
                safeBags: [
                  new pkijs.SafeBag({ bagId: BAG.cert, bagValue: new pkijs.CertBag({ parsedValue: leaf }), bagAttributes: attrs(true, i.friendlyName) }),
                  ...chain.map((c) => new pkijs.SafeBag({ bagId: BAG.cert, bagValue: new pkijs.CertBag({ parsedValue: c }) })),
                ],
              }),
            },
          ],
        },
      }),
    },
  });
  const pbes2 = { password, contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 }, hmacHashAlgorithm: "SHA-256", iterationCount: iterations };
  await keyBag.makeInternalValues(pbes2, crypto);
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({ safeContents: [{}, pbes2] }, crypto);
  await pfx.makeInternalValues({ password, iterations, pbkdf2HashAlgorithm: "SHA-256", hmacHashAlgorithm: "SHA-256" }, crypto);
  return new Uint8Array(pfx.toSchema().toBER(false));
}
