/**
 * OCSP (RFC 6960) on the wire, by hand on der.ts: the request parser is on the responder's hot
 * path and must never throw anything but {@link OcspRequestError}; responses are built once
 * (pre-signed) and served as bytes.
 */
import { createHash } from "node:crypto";
import { bitString, children, content, ctxCons, DerError, expectTag, octets, oid, oidToString, readTlv, seq, tlv, TAG, uint, type Tlv } from "../pki/der.js";

export const OID = {
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  basic: "1.3.6.1.5.5.7.48.1.1",
  nonce: "1.3.6.1.5.5.7.48.1.2",
  acceptableResponses: "1.3.6.1.5.5.7.48.1.4",
  preferredSignatureAlgorithms: "1.3.6.1.5.5.7.48.1.8",
} as const;
export type CertIdHash = "sha1" | "sha256";
const ENUMERATED = 0x0a;
const HASH_BY_OID: Record<string, CertIdHash> = { [OID.sha1]: "sha1", [OID.sha256]: "sha256" };
/** The same, keyed by the OID's DER contents in hex (no BigInt arithmetic on the hot path). */
const HASH_BY_OID_HEX: Record<string, CertIdHash> = { [oid(OID.sha1).subarray(2).toString("hex")]: "sha1", [oid(OID.sha256).subarray(2).toString("hex")]: "sha256" };
const NONCE_OID_CONTENT = oid(OID.nonce).subarray(2);
const HASH_LEN: Record<CertIdHash, number> = { sha1: 20, sha256: 32 };
/** AlgorithmIdentifier as openssl and most clients write it (NULL parameters). */
export const HASH_ALG_DER: Record<CertIdHash, Buffer> = {
  sha1: seq(oid(OID.sha1), Buffer.from([TAG.NULL, 0])),
  sha256: seq(oid(OID.sha256), Buffer.from([TAG.NULL, 0])),
};

/** RFC 6960 4.2.1 OCSPResponseStatus */
export const STATUS = { successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;
/** The unsigned error responses (RFC 6960 4.2.1: no responseBytes). */
export const ERROR_RESPONSE = {
  malformedRequest: Buffer.from("30030a0101", "hex"),
  internalError: Buffer.from("30030a0102", "hex"),
  tryLater: Buffer.from("30030a0103", "hex"),
  unauthorized: Buffer.from("30030a0106", "hex"),
} as const;

export class OcspRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OcspRequestError";
  }
}

/** A well-formed request this responder does not answer: several CertIDs in one requestList.
 *  RFC 6960 4.1.1 allows them, but every answer here is pre-signed for one certificate (ADR 0051)
 *  and RFC 6960 4.2.2.3 wants a SingleResponse for each requested certificate in one signed
 *  response, which needs the key this responder does not hold. The limit is the RFC 5019 2.1.1
 *  profile's (one Request per OCSPRequest), answered as an OCSP response (ADR 0072). */
export class OcspRequestLimit extends OcspRequestError {
  constructor(readonly requests: number) {
    super(`requestList holds ${requests} requests; this responder answers one certificate per request (RFC 5019 2.1.1): send one request per certificate`);
    this.name = "OcspRequestLimit";
  }
}

export interface ParsedRequest {
  readonly hash: CertIdHash;
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  /** Serial number, lower-case hex of the magnitude, no leading zero octets. */
  readonly serial: string;
  /** RFC 8954 nonce value, when present. */
  readonly nonce?: Buffer;
  /** Cache key: hash ‖ issuer hashes ‖ serial. */
  readonly key: string;
}

/** Largest OCSP request accepted (one CertID + a 32-octet nonce is ~120 bytes). */
export const MAX_REQUEST_BYTES = 1024;

function extensions(buf: Buffer, t: Tlv, where: string, onExt: (id: Buffer, critical: boolean, value: Buffer) => void): void {
  const list = expectTag(children(buf, t)[0] ?? fail(`${where}: empty`), TAG.SEQUENCE, where);
  const seen = new Set<string>();
  for (const e of children(buf, list)) {
    const parts = children(buf, expectTag(e, TAG.SEQUENCE, `${where} extension`));
    const id = content(buf, expectTag(parts[0] ?? fail("extnID missing"), TAG.OID, "extnID"));
    // RFC 6960 4.4 uses the X.509 extension model: one instance of an extension at most (RFC 5280 4.2)
    const key = id.toString("hex");
    if (seen.has(key)) throw new OcspRequestError(`${where}: extension ${oidToString(id)} appears twice (RFC 5280 4.2)`);
    seen.add(key);
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === TAG.BOOLEAN) critical = buf[parts[i++].contentStart] !== 0;
    const value = content(buf, expectTag(parts[i] ?? fail("extnValue missing"), TAG.OCTET_STRING, "extnValue"));
    onExt(id, critical, value);
  }
}

function fail(m: string): never {
  throw new DerError(m);
}

/** RFC 6960 4.1.1. One Request per OCSPRequest (RFC 5019 2.1.1; several: OcspRequestLimit); an unknown
 *  critical extension, an extension given twice (two nonces) or a nonce of 0 or more than 32
 *  octets (RFC 8954 2.1) is malformed. */
export function parseRequest(der: Buffer): ParsedRequest {
  if (der.length > MAX_REQUEST_BYTES) throw new OcspRequestError(`request of ${der.length} bytes is larger than ${MAX_REQUEST_BYTES}`);
  try {
    const top = expectTag(readTlv(der, 0), TAG.SEQUENCE, "OCSPRequest");
    if (top.end !== der.length) throw new DerError("trailing bytes after OCSPRequest");
    const [tbsT] = children(der, top);
    const tbs = children(der, expectTag(tbsT ?? fail("tbsRequest missing"), TAG.SEQUENCE, "tbsRequest"));
    let i = 0;
    if (tbs[i]?.tag === 0xa0) {
      const v = children(der, tbs[i++])[0];
      if (!v || v.tag !== TAG.INTEGER || v.end - v.contentStart !== 1 || der[v.contentStart] !== 0) throw new DerError("only version v1 (0) is defined");
    }
    if (tbs[i]?.tag === 0xa1) i++; // requestorName: ignored (we do not require signed requests)
    const list = children(der, expectTag(tbs[i++] ?? fail("requestList missing"), TAG.SEQUENCE, "requestList"));
    if (list.length === 0) throw new OcspRequestError("requestList is empty (RFC 6960 4.1.1)");
    let nonce: Buffer | undefined;
    const onExt = (id: Buffer, critical: boolean, value: Buffer) => {
      if (id.equals(NONCE_OID_CONTENT)) {
        // RFC 8954 2.1: Nonce ::= OCTET STRING (SIZE(1..32))
        const n = readTlv(value, 0);
        if (n.tag !== TAG.OCTET_STRING || n.end !== value.length) throw new OcspRequestError("nonce is not an OCTET STRING");
        const len = n.end - n.contentStart;
        if (len < 1 || len > 32) throw new OcspRequestError(`nonce of ${len} octets: RFC 8954 allows 1 to 32`);
        nonce = content(value, n);
      } else if (critical) throw new OcspRequestError(`unsupported critical extension ${oidToString(id)}`);
    };
    if (tbs[i]?.tag === 0xa2) extensions(der, tbs[i++], "requestExtensions", onExt);
    if (i !== tbs.length) throw new DerError("unexpected field in tbsRequest");
    if (list.length > 1) {
      for (const r of list) expectTag(children(der, expectTag(r, TAG.SEQUENCE, "Request"))[0] ?? fail("reqCert missing"), TAG.SEQUENCE, "CertID");
      throw new OcspRequestLimit(list.length);
    }
    const req = children(der, expectTag(list[0], TAG.SEQUENCE, "Request"));
    const certId = children(der, expectTag(req[0] ?? fail("reqCert missing"), TAG.SEQUENCE, "CertID"));
    if (req[1]) {
      if (req[1].tag !== 0xa0 || req.length > 2) throw new DerError("unexpected field in Request");
      extensions(der, req[1], "singleRequestExtensions", (id, critical) => {
        if (critical) throw new OcspRequestError(`unsupported critical extension ${oidToString(id)}`);
      });
    }
    if (certId.length !== 4) throw new DerError("CertID has 4 fields");
    const alg = children(der, expectTag(certId[0], TAG.SEQUENCE, "hashAlgorithm"));
    const hashOid = content(der, expectTag(alg[0] ?? fail("hash OID missing"), TAG.OID, "hashAlgorithm"));
    const hash = HASH_BY_OID_HEX[hashOid.toString("hex")];
    if (!hash) throw new OcspRequestError(`unsupported CertID hash algorithm ${oidToString(hashOid)} (SHA-1 and SHA-256 are supported)`);
    const issuerNameHash = content(der, expectTag(certId[1], TAG.OCTET_STRING, "issuerNameHash"));
    const issuerKeyHash = content(der, expectTag(certId[2], TAG.OCTET_STRING, "issuerKeyHash"));
    if (issuerNameHash.length !== HASH_LEN[hash] || issuerKeyHash.length !== HASH_LEN[hash]) throw new OcspRequestError("issuer hash length does not match the hash algorithm");
    const serialT = expectTag(certId[3], TAG.INTEGER, "serialNumber");
    let s = serialT.contentStart;
    if (serialT.end === s) throw new DerError("empty serialNumber");
    if (der[s] & 0x80) throw new OcspRequestError("negative serialNumber");
    while (s < serialT.end - 1 && der[s] === 0) s++;
    if (serialT.end - s > 20) throw new OcspRequestError("serialNumber longer than 20 octets (RFC 5280 4.1.2.2)");
    const serial = der.toString("hex", s, serialT.end);
    return { hash, issuerNameHash, issuerKeyHash, serial, nonce, key: cacheKey(hash, issuerNameHash, issuerKeyHash, serial) };
  } catch (err) {
    if (err instanceof OcspRequestError) throw err;
    throw new OcspRequestError(err instanceof Error ? err.message : String(err));
  }
}

export const cacheKey = (hash: CertIdHash, nameHash: Buffer, keyHash: Buffer, serialHex: string): string => `${hash}:${nameHash.toString("hex")}:${keyHash.toString("hex")}:${serialHex}`;

/** The subjectPublicKey BIT STRING value of a DER SubjectPublicKeyInfo (RFC 6960 4.1.1 issuerKeyHash). */
export function publicKeyBits(spki: Buffer): Buffer {
  const [, bits] = children(spki, readTlv(spki, 0));
  return content(spki, bits).subarray(1);
}

/** issuerNameHash / issuerKeyHash of a CA for one hash algorithm. */
export function issuerHashes(hash: CertIdHash, subjectDer: Buffer, spki: Buffer): { nameHash: Buffer; keyHash: Buffer } {
  return { nameHash: createHash(hash).update(subjectDer).digest(), keyHash: createHash(hash).update(publicKeyBits(spki)).digest() };
}

/** GeneralizedTime, seconds, Zulu (RFC 6960 / RFC 5280 4.1.2.5.2). */
export function generalizedTime(d: Date): Buffer {
  return tlv(TAG.GeneralizedTime, Buffer.from(`${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`, "latin1"));
}

export interface SingleStatus {
  readonly status: "good" | "revoked";
  readonly revokedAt?: Date;
  /** RFC 5280 CRLReason; 0 / null → no revocationReason. */
  readonly reason?: number | null;
}

export interface ResponseDataInput {
  readonly hash: CertIdHash;
  readonly nameHash: Buffer;
  readonly keyHash: Buffer;
  readonly serial: Buffer;
  readonly status: SingleStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** SHA-1 of the responder's public key bits (ResponderID byKey, RFC 6960 4.2.2.3). */
  readonly responderKeyHash: Buffer;
}

/** RFC 6960 4.2.1 ResponseData (v1, byKey, one SingleResponse, no extensions). */
export function responseData(i: ResponseDataInput): Buffer {
  const certId = seq(HASH_ALG_DER[i.hash], octets(i.nameHash), octets(i.keyHash), uint(i.serial));
  let certStatus: Buffer;
  if (i.status.status === "good") certStatus = Buffer.from([0x80, 0]);
  else {
    const reason = i.status.reason ?? 0;
    // BR 7.3: the reason is carried in RevokedInfo.revocationReason, never as a singleExtension.
    certStatus = tlv(0xa1, generalizedTime(i.status.revokedAt!), ...(reason ? [ctxCons(0, Buffer.from([ENUMERATED, 1, reason]))] : []));
  }
  const single = seq(certId, certStatus, generalizedTime(i.thisUpdate), ctxCons(0, generalizedTime(i.nextUpdate)));
  return seq(ctxCons(2, octets(i.responderKeyHash)), generalizedTime(i.thisUpdate), seq(single));
}

/** OCSPResponse(successful, BasicOCSPResponse{tbs, sigAlg, signature, certs [responder]}). */
export function ocspResponse(tbs: Buffer, signatureAlgorithm: Buffer, signature: Buffer, certs: Buffer[]): Buffer {
  const basic = seq(tbs, signatureAlgorithm, bitString(signature), ...(certs.length ? [ctxCons(0, seq(...certs))] : []));
  return seq(Buffer.from([ENUMERATED, 1, 0]), ctxCons(0, seq(oid(OID.basic), octets(basic))));
}

export interface ResponseSummary {
  readonly key: string;
  readonly serial: string;
  readonly status: "good" | "revoked" | "unknown";
  readonly thisUpdate: number;
  readonly nextUpdate: number;
}

function parseGt(buf: Buffer, t: Tlv): number {
  const s = buf.toString("latin1", t.contentStart, t.end);
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  if (t.tag !== TAG.GeneralizedTime || !m) throw new DerError(`bad GeneralizedTime "${s}"`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/** Reads back what a pre-signed response is for (the serve side indexes pushed responses by it). */
export function summarizeResponse(der: Buffer): ResponseSummary {
  const top = children(der, expectTag(readTlv(der, 0), TAG.SEQUENCE, "OCSPResponse"));
  if (top.length !== 2 || der[top[0].contentStart] !== 0) throw new DerError("not a successful OCSPResponse");
  const rb = children(der, children(der, top[1])[0]);
  if (oidToString(content(der, rb[0])) !== OID.basic) throw new DerError("not id-pkix-ocsp-basic");
  const basic = content(der, rb[1]);
  const [tbsT] = children(basic, readTlv(basic, 0));
  const tbs = children(basic, tbsT);
  const responses = children(basic, tbs[tbs[0].tag === 0xa0 ? 3 : 2]);
  if (responses.length !== 1) throw new DerError("a pre-signed response holds one SingleResponse");
  const single = children(basic, responses[0]);
  const certId = children(basic, single[0]);
  const hash = HASH_BY_OID[oidToString(content(basic, children(basic, certId[0])[0]))];
  if (!hash) throw new DerError("unsupported CertID hash");
  const serialT = certId[3];
  let s = serialT.contentStart;
  while (s < serialT.end - 1 && basic[s] === 0) s++;
  const serial = basic.toString("hex", s, serialT.end);
  const status = single[1].tag === 0x80 ? "good" : single[1].tag === 0xa1 ? "revoked" : "unknown";
  const nextT = single.find((t) => t.tag === 0xa0);
  if (!nextT) throw new DerError("nextUpdate missing");
  return {
    key: cacheKey(hash, content(basic, certId[1]), content(basic, certId[2]), serial),
    serial,
    status,
    thisUpdate: parseGt(basic, single[2]),
    nextUpdate: parseGt(basic, children(basic, nextT)[0]),
  };
}
