/**
 * A WebCrypto `Crypto` whose `subtle.sign` goes to the HSM for a key that lives there, so that
 * libraries written against WebCrypto (`@peculiar/x509`'s `create(params, crypto)`, e.g. in the
 * key-ceremony tool) sign with a PKCS#11 key. Every other operation is node's WebCrypto.
 */
import { webcrypto } from "node:crypto";

type Crypto = webcrypto.Crypto;
type CryptoKey = webcrypto.CryptoKey;
type BufferSource = webcrypto.BufferSource;
import { ALGORITHMS } from "./algorithms.js";
import type { Pkcs11Signer } from "./token.js";

const HSM_KEYS = new WeakMap<object, Pkcs11Signer>();

type AlgorithmParam = string | { name: string; hash?: string | { name: string } };

function hashName(alg: AlgorithmParam): string | undefined {
  if (typeof alg === "string") return undefined;
  const h = alg.hash;
  return typeof h === "string" ? h : h?.name;
}

export interface HsmWebCrypto {
  /** A `Crypto` to pass to WebCrypto-based libraries. */
  readonly crypto: Crypto;
  /** The private key handle: usable only with `crypto.subtle.sign` of this `crypto`. */
  readonly privateKey: CryptoKey;
  /** The public key as a real (node) WebCrypto key. */
  readonly publicKey: CryptoKey;
  /** The WebCrypto algorithm to sign with (e.g. `{ name: "ECDSA", hash: "SHA-256" }`). */
  readonly signingAlgorithm: { name: string; hash: string };
}

export async function hsmWebCrypto(signer: Pkcs11Signer): Promise<HsmWebCrypto> {
  const spec = ALGORITHMS[signer.keyAlgorithm];
  const hash = { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" }[spec.hash];
  const importAlg = spec.family === "EC" ? { name: "ECDSA", namedCurve: spec.namedCurve! } : { name: "RSASSA-PKCS1-v1_5", hash };
  const publicKey = await webcrypto.subtle.importKey("spki", signer.spki, importAlg, true, ["verify"]);
  const algorithm = spec.family === "EC" ? { name: "ECDSA", namedCurve: spec.namedCurve! } : { name: "RSASSA-PKCS1-v1_5", hash: { name: hash }, modulusLength: spec.bits, publicExponent: new Uint8Array([1, 0, 1]) };
  const privateKey = Object.create((globalThis as { CryptoKey?: { prototype: object } }).CryptoKey?.prototype ?? Object.prototype, {
    type: { value: "private", enumerable: true },
    extractable: { value: false, enumerable: true },
    algorithm: { value: algorithm, enumerable: true },
    usages: { value: ["sign"], enumerable: true },
    pkcs11Label: { value: signer.label, enumerable: true },
  }) as CryptoKey;
  HSM_KEYS.set(privateKey, signer);

  const subtle = webcrypto.subtle;
  const hsmSubtle = new Proxy(subtle, {
    get(target, prop, receiver) {
      if (prop === "sign") {
        return async (alg: AlgorithmParam, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> => {
          const s = HSM_KEYS.get(key);
          if (!s) return target.sign(alg as never, key, data);
          const requested = hashName(alg) ?? (spec.family === "RSA" ? hash : undefined);
          if (requested !== hash) throw new Error(`HSM key "${s.label}" signs with ${hash}, not ${requested}`);
          const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
          const { createHash } = await import("node:crypto");
          const raw = await s.signRawDigest(createHash(spec.hash).update(bytes).digest());
          // WebCrypto ECDSA signatures are r||s, which is what CKM_ECDSA returns.
          return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const crypto = {
    subtle: hsmSubtle,
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    randomUUID: webcrypto.randomUUID.bind(webcrypto),
  } as unknown as Crypto;
  return { crypto, privateKey, publicKey, signingAlgorithm: spec.family === "EC" ? { name: "ECDSA", hash } : { name: "RSASSA-PKCS1-v1_5", hash } };
}
