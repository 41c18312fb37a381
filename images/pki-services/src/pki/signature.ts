/**
 * Signatures over TBS bytes: which hash an AlgorithmIdentifier means, the assembly of a signed
 * object, and the one sign → verify step every signed object of the CA goes through
 * (certificates of the issuing CA, the ceremonies and the lab; CRLs; CSRs): sign in the HSM,
 * assemble, read back, check that the signed TBS bytes are the linted ones and that the
 * signature verifies with the issuer's public key. Which algorithm a key signs with is
 * pkcs11/algorithms.ts (ALGORITHMS: key → hash and AlgorithmIdentifier, BR 7.1.3.2).
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { Signer } from "../pkcs11/token.js";
import { bitString, children, content, expectTag, raw, readTlv, seq, TAG } from "./der.js";
import type { SignatureVerifier } from "./verify-pool.js";

export type SignatureHash = "sha256" | "sha384" | "sha512";

/** The signature AlgorithmIdentifiers BR 7.1.3.2 allows (exact DER), with their hash. */
const SIGNATURE_HASH: Record<string, SignatureHash> = {
  "300a06082a8648ce3d040302": "sha256", // ecdsa-with-SHA256 (BR 7.1.3.2.2)
  "300a06082a8648ce3d040303": "sha384",
  "300a06082a8648ce3d040304": "sha512",
  "300d06092a864886f70d01010b0500": "sha256", // sha256WithRSAEncryption, NULL (BR 7.1.3.2.1)
  "300d06092a864886f70d01010c0500": "sha384",
  "300d06092a864886f70d01010d0500": "sha512",
};

/** The hash of a signature AlgorithmIdentifier BR 7.1.3.2 allows; throws for any other. */
export function signatureHash(algorithmDer: Uint8Array): SignatureHash {
  const h = SIGNATURE_HASH[Buffer.from(algorithmDer).toString("hex")];
  if (!h) throw new Error(`unsupported signature algorithm ${Buffer.from(algorithmDer).toString("hex")} (BR 7.1.3.2)`);
  return h;
}

export const publicKeyObject = (spki: Uint8Array): KeyObject => createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });

/** Verifies `signature` over `tbs` with `key` (DER ECDSA-Sig-Value or PKCS#1 v1.5); false for a
 *  bad signature or an algorithm BR 7.1.3.2 does not allow. */
export function verifySignature(tbs: Uint8Array, algorithmDer: Uint8Array, signature: Uint8Array, key: Uint8Array | KeyObject): boolean {
  try {
    return verify(signatureHash(algorithmDer), tbs, key instanceof Uint8Array ? publicKeyObject(key) : key, signature);
  } catch {
    return false;
  }
}

/** Certificate / CertificateList / CertificationRequest: SEQUENCE { tbs, algorithm, BIT STRING }. */
export const assembleSigned = (tbs: Uint8Array, signatureAlgorithm: Uint8Array, signature: Uint8Array): Buffer => seq(Buffer.from(tbs), Buffer.from(signatureAlgorithm), bitString(signature));

export interface SignedParts {
  readonly tbs: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly signature: Buffer;
}

/** Splits a signed DER object into its three parts, strictly (nothing after it). */
export function splitSigned(der: Uint8Array): SignedParts {
  const outer = expectTag(readTlv(der, 0), TAG.SEQUENCE, "signed object");
  if (outer.end !== der.length) throw new Error(`signed object: ${der.length - outer.end} bytes after the end`);
  const parts = children(der, outer);
  if (parts.length !== 3) throw new Error(`signed object: expected 3 elements, found ${parts.length}`);
  expectTag(parts[0], TAG.SEQUENCE, "tbs");
  expectTag(parts[1], TAG.SEQUENCE, "signatureAlgorithm");
  expectTag(parts[2], TAG.BIT_STRING, "signature");
  const sig = content(der, parts[2]);
  if (sig[0] !== 0) throw new Error("signature: unused bits must be 0");
  return { tbs: Buffer.from(raw(der, parts[0])), signatureAlgorithm: Buffer.from(raw(der, parts[1])), signature: Buffer.from(sig.subarray(1)) };
}

export class SignatureCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignatureCheckError";
  }
}

/**
 * Sign → assemble → verify: signs the linted `tbs` with `signer`, assembles the signed object,
 * reads it back and checks that its TBS bytes are `tbs`, that its algorithm is the signer's and
 * that the signature verifies with `issuerKey` (or through `verifier`, e.g. a VerifyPool). Throws
 * SignatureCheckError, naming `what` ("certificate", "CRL", "CSR"); the signature is discarded.
 */
export async function signAndVerify(what: string, tbs: Buffer, signer: Pick<Signer, "sign" | "signatureAlgorithm">, issuerKey: Uint8Array | KeyObject, verifier?: SignatureVerifier): Promise<Buffer> {
  const signature = await signer.sign(tbs);
  const der = assembleSigned(tbs, signer.signatureAlgorithm, signature);
  const [tbsT, algT] = children(der, readTlv(der, 0));
  if (!raw(der, tbsT).equals(tbs)) throw new SignatureCheckError(`the signed ${what}'s TBS differs from the linted one`);
  if (!raw(der, algT).equals(signer.signatureAlgorithm)) throw new SignatureCheckError(`the ${what}'s outer signatureAlgorithm differs from the signer's (RFC 5280 4.1.1.2)`);
  const ok = verifier ? await verifier(signatureHash(signer.signatureAlgorithm), tbs, signature) : verifySignature(tbs, signer.signatureAlgorithm, signature, issuerKey);
  if (!ok) throw new SignatureCheckError(`the HSM signature does not verify with the CA public key; ${what} discarded`);
  return der;
}
