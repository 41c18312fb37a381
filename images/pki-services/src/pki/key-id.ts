/**
 * Key identifiers, one method for every certificate this CA makes (the ceremonies' root,
 * intermediate, cross and OCSP certificates, the issuing CA's end-entity certificates, the lab's
 * CA certificates): RFC 7093 section 2 method 1 — the leftmost 160 bits of the SHA-256 of the
 * subjectPublicKey BIT STRING value. BR 7.1.2.11.4 leaves the method to the CA; SHA-256 rather
 * than RFC 5280 4.2.1.2's SHA-1 keeps SHA-1 out of the CA entirely (ADR 0021).
 */
import { createHash } from "node:crypto";
import { children, content, expectTag, readTlv, TAG } from "./der.js";

/** The BIT STRING contents (without the unused-bits octet) of a DER SubjectPublicKeyInfo. */
export function spkiPublicKeyBits(spki: Uint8Array): Buffer {
  const outer = expectTag(readTlv(spki, 0), TAG.SEQUENCE, "SubjectPublicKeyInfo");
  const [, bits] = children(spki, outer);
  expectTag(bits, TAG.BIT_STRING, "subjectPublicKey");
  return content(spki, bits).subarray(1);
}

/** The key identifier of a public key given as its subjectPublicKey bits. */
export const keyIdentifierOfBits = (publicKeyBits: Uint8Array): Buffer => createHash("sha256").update(publicKeyBits).digest().subarray(0, 20);

/** The key identifier of a DER SubjectPublicKeyInfo (subjectKeyIdentifier; the issuer's is the
 *  authorityKeyIdentifier of what it signs, RFC 5280 4.2.1.1). */
export const keyIdentifier = (spki: Uint8Array): Buffer => keyIdentifierOfBits(spkiPublicKeyBits(spki));

export const sha256Hex = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");

/** SHA-256 of a SubjectPublicKeyInfo, as custodians compare it on screen and on paper. */
export const spkiSha256 = (spki: Uint8Array): string => sha256Hex(spki);
