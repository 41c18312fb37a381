/**
 * PKCS#10 (RFC 2986) reading: the subject, the public key, the requested extensions, and the
 * proof of possession (the CSR's own signature).
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { KeyAlgorithm } from "../config/schema.js";
import { children, content, DerError, expectTag, oidToString, raw, readTlv, TAG, type Tlv } from "./der.js";
import { ATTRIBUTE_BY_OID } from "./names.js";

export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CsrError";
  }
}

export interface CsrAttribute {
  readonly oid: string;
  /** Short name when it is one this CA knows (SUBJECT_ATTRIBUTES), else undefined. */
  readonly type: string | undefined;
  readonly tag: number;
  readonly value: string;
  /** Number of attributes in the RDN this one came from (multi-valued RDNs are refused). */
  readonly rdnSize: number;
}

export interface CsrExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

export interface ParsedCsr {
  readonly der: Buffer;
  readonly subject: readonly CsrAttribute[];
  /** DER SubjectPublicKeyInfo, copied into the certificate as is. */
  readonly spki: Buffer;
  /** subjectPublicKey BIT STRING contents without the unused-bits octet (for the SKI). */
  readonly publicKeyBits: Buffer;
  /** The key as one of this CA's KeyAlgorithm names, if it is one. */
  readonly keyAlgorithm: KeyAlgorithm | undefined;
  /** Human description, e.g. "RSA 1024", "EC secp256k1 (1.3.132.0.10)". */
  readonly keyDescription: string;
  readonly extensions: readonly CsrExtension[];
  readonly san: { readonly dns: string[]; readonly email: string[]; readonly other: string[] };
  readonly signatureAlgorithmOid: string;
}

const STRING_TAGS = new Set<number>([TAG.UTF8String, TAG.PrintableString, TAG.IA5String, TAG.TeletexString, TAG.BMPString, TAG.UniversalString]);
const CURVES: Record<string, { alg: KeyAlgorithm; name: string }> = {
  "1.2.840.10045.3.1.7": { alg: "ECDSA_P256", name: "P-256" },
  "1.3.132.0.34": { alg: "ECDSA_P384", name: "P-384" },
  "1.3.132.0.35": { alg: "ECDSA_P521", name: "P-521" },
};
const CURVE_NAMES: Record<string, string> = { "1.3.132.0.10": "secp256k1", "1.2.840.10045.3.1.1": "P-192", "1.3.132.0.33": "P-224", "1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1" };
const SIG_ALGS: Record<string, string> = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14"; // PKCS#9
const OID_SAN = "2.5.29.17";

function decodeString(buf: Buffer, t: Tlv): string {
  const c = content(buf, t);
  switch (t.tag) {
    case TAG.UTF8String: {
      const s = c.toString("utf8");
      if (!Buffer.from(s, "utf8").equals(c)) throw new CsrError("CSR subject holds an invalid UTF8String");
      return s;
    }
    // Decoded from a copy: the CSR's own bytes are what its signature covers (swap16 works in place).
    case TAG.BMPString: {
      if (c.length % 2) throw new CsrError(`CSR subject holds a BMPString of ${c.length} octets (UCS-2: 2 octets per character)`);
      const s = Buffer.from(c).swap16().toString("utf16le");
      if (/[\ud800-\udfff]/.test(s)) throw new CsrError("CSR subject holds a BMPString with a surrogate code unit (UCS-2 has none)");
      return s;
    }
    case TAG.UniversalString: {
      if (c.length % 4) throw new CsrError(`CSR subject holds a UniversalString of ${c.length} octets (UCS-4: 4 octets per character)`);
      let s = "";
      for (let i = 0; i < c.length; i += 4) {
        const cp = c.readUInt32BE(i);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new CsrError(`CSR subject holds a UniversalString with U+${cp.toString(16).toUpperCase()}, which is not a Unicode scalar value`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return c.toString("latin1");
  }
}

// The exact AlgorithmIdentifier encodings of RFC 3279 2.3.1 (rsaEncryption, NULL parameters)
// and RFC 5480 2.1.1 (id-ecPublicKey, namedCurve), with the key's size in octets.
const RSA_ALG_ID = Buffer.from("300d06092a864886f70d0101010500", "hex");
const EC_ALG_IDS: { der: Buffer; crv: string; octets: number }[] = [
  { der: Buffer.from("301306072a8648ce3d020106082a8648ce3d030107", "hex"), crv: "P-256", octets: 32 },
  { der: Buffer.from("301006072a8648ce3d020106052b81040022", "hex"), crv: "P-384", octets: 48 },
  { der: Buffer.from("301006072a8648ce3d020106052b81040023", "hex"), crv: "P-521", octets: 66 },
];

/**
 * The CSR's public key as a KeyObject. OpenSSL 3 decodes a DER SubjectPublicKeyInfo through its
 * generic decoder framework (about 180 µs here, more than the P-256 signature check itself); the
 * same key given as its JWK components (RFC 7518 6.2, 6.3) is built directly (RSA ~10 µs; EC ~75
 * µs, which includes OpenSSL's full public key check). Only the canonical encodings take that way: an
 * uncompressed point of the curve's size, an RSAPublicKey of exactly two positive INTEGERs;
 * anything else goes through the DER decoder, so what is accepted does not change. Every new CSR
 * pays this import: bench/issuance.ts measures it as part of the proof of possession (ADR 0083).
 */
export function subjectPublicKey(spki: Buffer): KeyObject {
  const b64u = (b: Buffer) => b.toString("base64url");
  try {
    const [algT, keyT] = children(spki, readTlv(spki, 0));
    const algId = raw(spki, algT);
    const bitString = content(spki, keyT);
    const unusedBits = keyT.tag === TAG.BIT_STRING ? bitString[0] : undefined;
    const bits = bitString.subarray(1);
    if (unusedBits === 0 && algId.equals(RSA_ALG_ID)) {
      const seqT = readTlv(bits, 0);
      const ints = seqT.tag === TAG.SEQUENCE && seqT.end === bits.length ? children(bits, seqT) : [];
      if (ints.length === 2 && ints.every((t) => t.tag === TAG.INTEGER && t.end > t.contentStart && (bits[t.contentStart] & 0x80) === 0)) {
        const strip = (b: Buffer) => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b);
        return createPublicKey({ key: { kty: "RSA", n: b64u(strip(content(bits, ints[0]))), e: b64u(strip(content(bits, ints[1]))) }, format: "jwk" });
      }
    }
    const ec = unusedBits === 0 ? EC_ALG_IDS.find((a) => a.der.equals(algId)) : undefined;
    if (ec && bits.length === 1 + 2 * ec.octets && bits[0] === 0x04) {
      return createPublicKey({ key: { kty: "EC", crv: ec.crv, x: b64u(bits.subarray(1, 1 + ec.octets)), y: b64u(bits.subarray(1 + ec.octets)) }, format: "jwk" });
    }
  } catch {
    // not a key this way: the DER decoder below gives the verdict
  }
  return createPublicKey({ key: spki, format: "der", type: "spki" });
}

/** Accepts PEM ("CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST") or DER. */
export function csrToDer(input: string | Uint8Array): Buffer {
  if (typeof input !== "string") return Buffer.from(input);
  const m = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(input);
  if (!m) throw new CsrError("CSR is not PEM with the label CERTIFICATE REQUEST");
  const b64 = m[2].replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new CsrError("CSR PEM body is not base64");
  return Buffer.from(b64, "base64");
}

/** Parses and checks the CSR's signature (proof of possession, RFC 2986 3 / BR 3.2.1). */
export function parseCsr(input: string | Uint8Array): ParsedCsr {
  const der = csrToDer(input);
  try {
    return parse(der);
  } catch (err) {
    if (err instanceof DerError) throw new CsrError(`CSR is not valid DER: ${err.message}`);
    if (err instanceof CsrError) throw err;
    // a structure no check above foresaw: still the client's CSR, refused as such (400)
    throw new CsrError(`CSR structure not understood: ${(err as Error)?.message ?? String(err)}`);
  }
}

function parse(der: Buffer): ParsedCsr {
  const top = expectTag(readTlv(der, 0), TAG.SEQUENCE, "CertificationRequest");
  if (top.end !== der.length) throw new CsrError("CSR is not valid DER: trailing bytes after the CertificationRequest");
  const [criT, sigAlgT, sigT, ...extra] = children(der, top);
  if (!criT || !sigAlgT || !sigT || extra.length) throw new CsrError("CSR is not valid DER: CertificationRequest must have 3 fields");
  expectTag(criT, TAG.SEQUENCE, "certificationRequestInfo");
  const [verT, nameT, spkiT, attrsT] = children(der, criT);
  if (!verT || !nameT || !spkiT) throw new CsrError("CSR is not valid DER: certificationRequestInfo is incomplete");
  expectTag(verT, TAG.INTEGER, "version");
  if (content(der, verT).length !== 1 || der[verT.contentStart] !== 0) throw new CsrError("CSR version must be 0 (v1)");

  // subject
  const subject: CsrAttribute[] = [];
  for (const rdn of children(der, expectTag(nameT, TAG.SEQUENCE, "subject"))) {
    const atvs = children(der, expectTag(rdn, TAG.SET, "RelativeDistinguishedName"));
    if (!atvs.length) throw new CsrError("CSR subject holds an empty RelativeDistinguishedName (RFC 5280 4.1.2.4: SET SIZE (1..MAX))");
    for (const atv of atvs) {
      const [typeT, valueT, ...more] = children(der, expectTag(atv, TAG.SEQUENCE, "AttributeTypeAndValue"));
      if (more.length) throw new CsrError("CSR subject: an AttributeTypeAndValue has more than a type and a value");
      const o = oidToString(content(der, expectTag(typeT, TAG.OID, "attribute type")));
      if (!valueT || !STRING_TAGS.has(valueT.tag)) throw new CsrError(`CSR subject attribute ${o} is not a string`);
      subject.push({ oid: o, type: ATTRIBUTE_BY_OID.get(o), tag: valueT.tag, value: decodeString(der, valueT), rdnSize: atvs.length });
    }
  }

  // public key
  const spki = raw(der, expectTag(spkiT, TAG.SEQUENCE, "subjectPKInfo"));
  const [algT, keyT] = children(der, spkiT);
  if (!algT || !keyT) throw new CsrError("CSR subjectPKInfo is incomplete (algorithm and subjectPublicKey are required)");
  const [algOidT, paramsT] = children(der, expectTag(algT, TAG.SEQUENCE, "AlgorithmIdentifier"));
  const keyOid = oidToString(content(der, expectTag(algOidT, TAG.OID, "key algorithm")));
  const keyBitString = content(der, expectTag(keyT, TAG.BIT_STRING, "subjectPublicKey"));
  const publicKeyBits = keyBitString.subarray(1);
  // Imported once, for the size and the proof of possession.
  let keyObject: KeyObject | undefined;
  const publicKey = (): KeyObject => (keyObject ??= subjectPublicKey(spki));
  let keyAlgorithm: KeyAlgorithm | undefined;
  let keyDescription: string;
  if (keyOid === "1.2.840.113549.1.1.1") {
    let bits: number;
    try {
      bits = publicKey().asymmetricKeyDetails?.modulusLength ?? 0;
    } catch {
      throw new CsrError("CSR public key is not a valid RSA key");
    }
    keyDescription = `RSA ${bits}`;
    keyAlgorithm = ({ 2048: "RSA_2048", 3072: "RSA_3072", 4096: "RSA_4096" } as Record<number, KeyAlgorithm>)[bits];
  } else if (keyOid === "1.2.840.10045.2.1") {
    const curveOid = paramsT?.tag === TAG.OID ? oidToString(content(der, paramsT)) : "(no named curve)";
    const c = CURVES[curveOid];
    keyAlgorithm = c?.alg;
    keyDescription = c ? `EC ${c.name}` : `EC ${CURVE_NAMES[curveOid] ?? "curve"} (${curveOid})`;
  } else {
    keyDescription = `key algorithm ${keyOid}`;
  }

  // requested extensions
  const extensions: CsrExtension[] = [];
  const san = { dns: [] as string[], email: [] as string[], other: [] as string[] };
  if (attrsT) {
    if (attrsT.tag !== 0xa0) throw new CsrError("CSR is not valid DER: attributes must be [0]");
    for (const attr of children(der, attrsT)) {
      const [aOidT, valuesT] = children(der, expectTag(attr, TAG.SEQUENCE, "Attribute"));
      const aOid = oidToString(content(der, expectTag(aOidT, TAG.OID, "attribute type")));
      if (aOid !== OID_EXTENSION_REQUEST) throw new CsrError(`CSR attribute ${aOid} is not allowed (only extensionRequest)`);
      const values = children(der, expectTag(valuesT, TAG.SET, "extensionRequest values"));
      if (values.length !== 1) throw new CsrError(`CSR extensionRequest attribute holds ${values.length} values (PKCS#9: exactly one)`);
      for (const exts of values) {
        for (const ext of children(der, expectTag(exts, TAG.SEQUENCE, "Extensions"))) {
          const parts = children(der, expectTag(ext, TAG.SEQUENCE, "Extension"));
          if (parts.length < 2 || parts.length > 3) throw new CsrError(`CSR requests an Extension of ${parts.length} fields (extnID, critical, extnValue)`);
          const eOid = oidToString(content(der, expectTag(parts[0], TAG.OID, "extnID")));
          const critical = parts.length === 3 && parts[1].tag === TAG.BOOLEAN && der[parts[1].contentStart] !== 0;
          const value = content(der, expectTag(parts[parts.length - 1], TAG.OCTET_STRING, "extnValue"));
          if (extensions.some((e) => e.oid === eOid)) throw new CsrError(`CSR requests extension ${eOid} twice`);
          extensions.push({ oid: eOid, critical, value });
          if (eOid === OID_SAN) {
            const names = readTlv(value, 0);
            for (const gn of children(value, expectTag(names, TAG.SEQUENCE, "GeneralNames"))) {
              const v = content(value, gn).toString("latin1");
              if (gn.tag === 0x82) san.dns.push(v);
              else if (gn.tag === 0x81) san.email.push(v);
              else san.other.push(`[${gn.tag & 0x1f}]`);
            }
          }
        }
      }
    }
  }

  // proof of possession
  const [sigOidT] = children(der, expectTag(sigAlgT, TAG.SEQUENCE, "signatureAlgorithm"));
  const signatureAlgorithmOid = oidToString(content(der, expectTag(sigOidT, TAG.OID, "signature algorithm")));
  const hash = SIG_ALGS[signatureAlgorithmOid];
  if (keyAlgorithm && !hash) throw new CsrError(`CSR signature algorithm ${signatureAlgorithmOid} is not supported (ECDSA or RSA PKCS#1 v1.5 with SHA-256/384/512)`);
  if (keyAlgorithm) {
    const sig = content(der, expectTag(sigT, TAG.BIT_STRING, "signature")).subarray(1);
    let ok = false;
    try {
      ok = verify(hash, raw(der, criT), publicKey(), sig);
    } catch {
      ok = false;
    }
    if (!ok) throw new CsrError("CSR signature does not verify with its public key (RFC 2986: proof of possession)");
  }
  return { der, subject, spki, publicKeyBits, keyAlgorithm, keyDescription, extensions, san, signatureAlgorithmOid };
}
