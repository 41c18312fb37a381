/**
 * Signing a digest computed in the process: CRLs are hashed while they are streamed (a
 * 1,000,000-entry CRL is never in memory as one buffer), and OCSP responses are hashed once.
 * Only the digest goes to the HSM (CKM_ECDSA / CKM_RSA_PKCS, see pkcs11/algorithms.ts).
 */
import { createHash, type Hash } from "node:crypto";
import type { KeyAlgorithm } from "../config/schema.js";
import { ALGORITHMS, ecdsaRawToDer, type HashName } from "../pkcs11/algorithms.js";
import type { Pkcs11Signer } from "../pkcs11/token.js";

export interface DigestSigner {
  readonly keyAlgorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo of the key. */
  readonly spki: Buffer;
  /** DER AlgorithmIdentifier of the signatures (RFC 5280 4.1.1.2). */
  readonly signatureAlgorithm: Buffer;
  readonly hash: HashName;
  /** The X.509 signatureValue contents for a digest made with `hash`. */
  signDigest(digest: Buffer): Promise<Buffer>;
}

export function hsmDigestSigner(s: Pkcs11Signer): DigestSigner {
  const spec = ALGORITHMS[s.keyAlgorithm];
  return {
    keyAlgorithm: s.keyAlgorithm,
    spki: s.spki,
    signatureAlgorithm: s.signatureAlgorithm,
    hash: spec.hash,
    async signDigest(digest: Buffer): Promise<Buffer> {
      const raw = await s.signRawDigest(digest);
      return spec.family === "EC" ? ecdsaRawToDer(raw) : raw;
    },
  };
}

export const newHash = (s: DigestSigner): Hash => createHash(s.hash);
