/**
 * Key algorithms as PKCS#11 sees them: key-generation mechanisms and templates, the signing
 * mechanism, the hash, and the X.509 AlgorithmIdentifier of the signature (RFC 5280 4.1.1.2,
 * RFC 5758 3.2 for ECDSA, RFC 4055 5 / RFC 3279 2.2.1 for RSA PKCS#1 v1.5).
 */
import pkcs11js from "pkcs11js";
import type { KeyAlgorithm } from "../config/schema.js";

export type HashName = "sha256" | "sha384" | "sha512";

export interface AlgorithmSpec {
  readonly family: "EC" | "RSA";
  /** RSA modulus bits, or the EC field size in bits. */
  readonly bits: number;
  /** Named curve OID (EC only). */
  readonly curveOid?: string;
  /** Node/WebCrypto curve name (EC only). */
  readonly namedCurve?: "P-256" | "P-384" | "P-521";
  /** Hash used when this key signs (BR 7.1.3.2). */
  readonly hash: HashName;
  /** DER of the signature AlgorithmIdentifier placed in TBSCertificate.signature and
   *  Certificate.signatureAlgorithm. */
  readonly signatureAlgorithmDer: Buffer;
}

// DER encodings written out: BR 7.1.3.2.1 / 7.1.3.2.2 require these exact byte strings.
const SIG_ALG_DER = {
  // ecdsa-with-SHA256, no parameters
  ecdsaSha256: "300a06082a8648ce3d040302",
  ecdsaSha384: "300a06082a8648ce3d040303",
  ecdsaSha512: "300a06082a8648ce3d040304",
  // sha256WithRSAEncryption, NULL parameters
  rsaSha256: "300d06092a864886f70d01010b0500",
  rsaSha384: "300d06092a864886f70d01010c0500",
} as const;

export const ALGORITHMS: Record<KeyAlgorithm, AlgorithmSpec> = {
  ECDSA_P256: {
    family: "EC",
    bits: 256,
    curveOid: "1.2.840.10045.3.1.7",
    namedCurve: "P-256",
    hash: "sha256",
    signatureAlgorithmDer: Buffer.from(SIG_ALG_DER.ecdsaSha256, "hex"),
  },
  ECDSA_P384: {
    family: "EC",
    bits: 384,
    curveOid: "1.3.132.0.34",
    namedCurve: "P-384",
    hash: "sha384",
    signatureAlgorithmDer: Buffer.from(SIG_ALG_DER.ecdsaSha384, "hex"),
  },
  ECDSA_P521: {
    family: "EC",
    bits: 521,
    curveOid: "1.3.132.0.35",
    namedCurve: "P-521",
    hash: "sha512",
    signatureAlgorithmDer: Buffer.from(SIG_ALG_DER.ecdsaSha512, "hex"),
  },
  RSA_2048: { family: "RSA", bits: 2048, hash: "sha256", signatureAlgorithmDer: Buffer.from(SIG_ALG_DER.rsaSha256, "hex") },
  RSA_3072: { family: "RSA", bits: 3072, hash: "sha256", signatureAlgorithmDer: Buffer.from(SIG_ALG_DER.rsaSha256, "hex") },
  RSA_4096: { family: "RSA", bits: 4096, hash: "sha384", signatureAlgorithmDer: Buffer.from(SIG_ALG_DER.rsaSha384, "hex") },
};

/** DER of an OBJECT IDENTIFIER (used for CKA_EC_PARAMS). */
export function oidDer(oid: string): Buffer {
  const parts = oid.split(".").map((p) => BigInt(p));
  const bytes: number[] = [];
  const first = parts[0] * 40n + parts[1];
  for (const arc of [first, ...parts.slice(2)]) {
    const chunk: number[] = [];
    let v = arc;
    chunk.unshift(Number(v & 0x7fn));
    v >>= 7n;
    while (v > 0n) {
      chunk.unshift(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    bytes.push(...chunk);
  }
  return Buffer.from([0x06, bytes.length, ...bytes]);
}

/** DigestInfo prefixes (RFC 8017 9.2 note 1) for CKM_RSA_PKCS over a locally computed hash. */
const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

/**
 * What is sent to the token for one signature. We hash in the process and send only the digest
 * (CKM_ECDSA / CKM_RSA_PKCS): every PKCS#11 HSM supports these two mechanisms, and a network HSM
 * then receives 32–83 bytes instead of the whole TBSCertificate.
 */
export function signInput(spec: AlgorithmSpec, digest: Buffer): { mechanism: number; data: Buffer } {
  if (spec.family === "EC") return { mechanism: pkcs11js.CKM_ECDSA, data: digest };
  return { mechanism: pkcs11js.CKM_RSA_PKCS, data: Buffer.concat([DIGEST_INFO_PREFIX[spec.hash], digest]) };
}

/** Length in bytes of the raw signature the token returns (r||s for ECDSA, modulus for RSA). */
export function rawSignatureLength(spec: AlgorithmSpec): number {
  return spec.family === "EC" ? 2 * Math.ceil(spec.bits / 8) : spec.bits / 8;
}

/** Converts a PKCS#11 ECDSA signature (r||s, RFC 5480-agnostic raw form) to the DER
 *  ECDSA-Sig-Value that X.509 carries (RFC 5480 2.2 / RFC 3279 2.2.3). */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const n = raw.length / 2;
  const int = (b: Uint8Array): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    return v[0] & 0x80 ? Buffer.concat([Buffer.from([0x02, v.length + 1, 0]), v]) : Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(raw.subarray(0, n)), int(raw.subarray(n))]);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), len, body]);
}
