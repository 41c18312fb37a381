/**
 * RFC 3161 time-stamping on the wire, on der.ts like the OCSP encoder: the request parser never
 * throws anything but {@link TsaRequestError} (which carries the PKIFailureInfo to answer with),
 * and the token is a CMS SignedData (RFC 5652) over a TSTInfo with the ESSCertIDv2 signing-
 * certificate attribute (RFC 5816).
 */
import { createHash } from "node:crypto";
import { children, content, ctxCons, DerError, expectTag, namedBits, octets, oid, oidToString, raw, readTlv, seq, set, smallInt, tlv, TAG, uint, type Tlv } from "../pki/der.js";

export const TSA_OID = {
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  timeStamping: "1.3.6.1.5.5.7.3.8",
} as const;

export type ImprintHash = "sha256" | "sha384" | "sha512";
/** The message-imprint hashes this TSA accepts: SHA-2 only (SHA-1 and MD5 are refused as badAlg). */
export const IMPRINT_HASHES: readonly ImprintHash[] = ["sha256", "sha384", "sha512"];
const IMPRINT_LENGTH: Record<ImprintHash, number> = { sha256: 32, sha384: 48, sha512: 64 };
const HASH_BY_OID: Record<string, ImprintHash> = { [TSA_OID.sha256]: "sha256", [TSA_OID.sha384]: "sha384", [TSA_OID.sha512]: "sha512" };
/** AlgorithmIdentifier of a SHA-2 hash, parameters absent (RFC 5754 2). */
export const hashAlgorithmId = (h: ImprintHash): Buffer => seq(oid(TSA_OID[h]));

/** RFC 3161 2.4.2 PKIStatus. */
export const PKI_STATUS = { granted: 0, grantedWithMods: 1, rejection: 2, waiting: 3 } as const;
/** RFC 3161 2.4.2 PKIFailureInfo bit numbers. */
export const FAILURE = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type FailureInfo = keyof typeof FAILURE;

/** A request the TSA refuses; `failure` is the PKIFailureInfo it answers with. */
export class TsaRequestError extends Error {
  constructor(
    readonly failure: FailureInfo,
    message: string,
  ) {
    super(message);
    this.name = "TsaRequestError";
  }
}

export interface TimeStampRequest {
  readonly hash: ImprintHash;
  readonly hashedMessage: Buffer;
  /** reqPolicy (dotted), when the requester asked for one. */
  readonly policy?: string;
  /** The nonce INTEGER's content octets, copied into the TSTInfo unchanged (RFC 3161 2.4.2). */
  readonly nonce?: Buffer;
  readonly certReq: boolean;
}

/** Largest request accepted: a SHA-512 imprint, a policy and a 64-octet nonce take < 250 bytes. */
export const MAX_REQUEST_BYTES = 4096;
/** Largest nonce accepted, in octets (RFC 3161 asks for a large random number, e.g. 64 bits). */
export const MAX_NONCE_OCTETS = 64;

function fail(message: string): never {
  throw new DerError(message);
}

/** RFC 3161 2.4.1 TimeStampReq. */
export function parseTimeStampRequest(der: Buffer): TimeStampRequest {
  if (der.length > MAX_REQUEST_BYTES) throw new TsaRequestError("badDataFormat", `request of ${der.length} bytes is larger than ${MAX_REQUEST_BYTES}`);
  try {
    const top = expectTag(readTlv(der, 0), TAG.SEQUENCE, "TimeStampReq");
    if (top.end !== der.length) fail("trailing bytes after TimeStampReq");
    const f = children(der, top);
    let i = 0;
    const v = expectTag(f[i++] ?? fail("version missing"), TAG.INTEGER, "version");
    if (v.end - v.contentStart !== 1 || der[v.contentStart] !== 1) throw new TsaRequestError("badRequest", "version must be v1 (1)");
    const imprint = children(der, expectTag(f[i++] ?? fail("messageImprint missing"), TAG.SEQUENCE, "messageImprint"));
    if (imprint.length !== 2) fail("messageImprint has two fields");
    const alg = children(der, expectTag(imprint[0], TAG.SEQUENCE, "hashAlgorithm"));
    const algOid = oidToString(content(der, expectTag(alg[0] ?? fail("hashAlgorithm OID missing"), TAG.OID, "hashAlgorithm")));
    if (alg.length > 2 || (alg[1] && !(alg[1].tag === TAG.NULL && alg[1].end === alg[1].contentStart))) fail("hashAlgorithm parameters must be absent or NULL");
    const hash = HASH_BY_OID[algOid];
    if (!hash) throw new TsaRequestError("badAlg", `message imprint hash ${algOid} is not accepted; accepted: SHA-256, SHA-384, SHA-512`);
    const hashedMessage = content(der, expectTag(imprint[1], TAG.OCTET_STRING, "hashedMessage"));
    if (hashedMessage.length !== IMPRINT_LENGTH[hash]) throw new TsaRequestError("badDataFormat", `hashedMessage of ${hashedMessage.length} octets does not match ${hash.toUpperCase()} (${IMPRINT_LENGTH[hash]} octets)`);
    let policy: string | undefined;
    if (f[i]?.tag === TAG.OID) policy = oidToString(content(der, f[i++]));
    let nonce: Buffer | undefined;
    if (f[i]?.tag === TAG.INTEGER) {
      nonce = content(der, f[i++]);
      if (nonce.length === 0) fail("empty nonce");
      if (nonce.length > MAX_NONCE_OCTETS) throw new TsaRequestError("badDataFormat", `nonce of ${nonce.length} octets is longer than ${MAX_NONCE_OCTETS}`);
    }
    let certReq = false;
    if (f[i]?.tag === TAG.BOOLEAN) {
      const b = f[i++];
      if (b.end - b.contentStart !== 1 || (der[b.contentStart] !== 0 && der[b.contentStart] !== 0xff)) fail("certReq is not a DER BOOLEAN");
      certReq = der[b.contentStart] === 0xff;
    }
    if (f[i]?.tag === 0xa0) throw new TsaRequestError("unacceptedExtension", "request extensions are not supported by this TSA");
    if (i !== f.length) fail(`unexpected field (tag 0x${f[i].tag.toString(16)}) in TimeStampReq`);
    return { hash, hashedMessage, policy, nonce, certReq };
  } catch (err) {
    if (err instanceof TsaRequestError) throw err;
    throw new TsaRequestError("badDataFormat", err instanceof Error ? err.message : String(err));
  }
}

/** RFC 3161 2.4.1 TimeStampReq, as a client (tests, the lab) makes it. */
export function timeStampRequest(r: { hash: ImprintHash; hashedMessage: Buffer; policy?: string; nonce?: Buffer; certReq?: boolean }): Buffer {
  return seq(
    smallInt(1),
    seq(seq(oid(TSA_OID[r.hash]), Buffer.from([TAG.NULL, 0])), octets(r.hashedMessage)),
    ...(r.policy ? [oid(r.policy)] : []),
    ...(r.nonce ? [uint(r.nonce)] : []),
    ...(r.certReq ? [Buffer.from([TAG.BOOLEAN, 1, 0xff])] : []),
  );
}

/** Accuracy (RFC 3161 2.4.2): seconds, millis (1..999), micros (1..999); zero parts omitted. */
export interface Accuracy {
  readonly seconds: number;
  readonly millis: number;
  readonly micros: number;
}

/** The accuracy in microseconds (the clock guard compares the measured error with it). */
export const accuracyMicros = (a: Accuracy): number => a.seconds * 1_000_000 + a.millis * 1000 + a.micros;

function intDer(n: number): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return uint(Buffer.from(hex, "hex"));
}

function accuracyDer(a: Accuracy): Buffer {
  const parts: Buffer[] = [];
  if (a.seconds) parts.push(intDer(a.seconds));
  // [0] / [1] IMPLICIT INTEGER: the INTEGER's content octets under a context tag
  if (a.millis) parts.push(tlv(0x80, intDer(a.millis).subarray(2)));
  if (a.micros) parts.push(tlv(0x81, intDer(a.micros).subarray(2)));
  return seq(...parts);
}

/** GeneralizedTime with milliseconds, trailing zeros of the fraction removed and no fraction
 *  when it is zero (RFC 3161 2.4.2: "MUST NOT contain trailing zeros", "MUST use 'Z'"). */
export function genTimeDer(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-12-02T16:44:29.120Z
  const whole = iso.slice(0, 19).replace(/[-:T]/g, "");
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return tlv(TAG.GeneralizedTime, Buffer.from(`${whole}${frac ? `.${frac}` : ""}Z`, "latin1"));
}

export interface TstInfoInput {
  readonly policy: string;
  readonly request: TimeStampRequest;
  /** Serial number magnitude (unique per TSA, ≤ 160 bits: RFC 3161 2.4.2). */
  readonly serial: Buffer;
  readonly genTime: Date;
  readonly accuracy: Accuracy;
  /** DER Name of the TSA (its certificate's subject), placed in `tsa` as a directoryName. */
  readonly tsaName?: Buffer;
}

/** RFC 3161 2.4.2 TSTInfo. */
export function tstInfo(i: TstInfoInput): Buffer {
  return seq(
    smallInt(1),
    oid(i.policy),
    seq(seq(oid(TSA_OID[i.request.hash])), octets(i.request.hashedMessage)),
    uint(i.serial),
    genTimeDer(i.genTime),
    accuracyDer(i.accuracy),
    // ordering DEFAULT FALSE: omitted (DER)
    ...(i.request.nonce ? [tlv(TAG.INTEGER, i.request.nonce)] : []),
    // tsa [0] GeneralName: a CHOICE, so explicitly tagged; directoryName is [4] (RFC 5280 4.2.1.6)
    ...(i.tsaName ? [ctxCons(0, ctxCons(4, i.tsaName))] : []),
  );
}

/** What the TSA's certificate contributes to every token: issuer and serial (the SignerInfo's
 *  sid and ESSCertIDv2.issuerSerial) and its SHA-256 (ESSCertIDv2.certHash, RFC 5816 2.2.1). */
export interface TsaCertificateInfo {
  readonly der: Buffer;
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly serial: Buffer;
  readonly spki: Buffer;
  readonly sha256: Buffer;
}

export function tsaCertificateInfo(der: Buffer): TsaCertificateInfo {
  const cert = expectTag(readTlv(der, 0), TAG.SEQUENCE, "Certificate");
  const tbs = children(der, expectTag(children(der, cert)[0], TAG.SEQUENCE, "tbsCertificate"));
  const o = tbs[0].tag === 0xa0 ? 1 : 0;
  return {
    der,
    serial: raw(der, expectTag(tbs[o], TAG.INTEGER, "serialNumber")),
    issuer: raw(der, expectTag(tbs[o + 2], TAG.SEQUENCE, "issuer")),
    subject: raw(der, expectTag(tbs[o + 4], TAG.SEQUENCE, "subject")),
    spki: raw(der, expectTag(tbs[o + 5], TAG.SEQUENCE, "subjectPublicKeyInfo")),
    sha256: createHash("sha256").update(der).digest(),
  };
}

/** X.690 11.6: the elements of a SET OF in ascending order of their encodings. */
function derSetOf(items: Buffer[]): Buffer {
  return set(...[...items].sort((a, b) => Buffer.compare(a, b)));
}

function attribute(type: string, value: Buffer): Buffer {
  return seq(oid(type), set(value));
}

/** The signed attributes (RFC 5652 5.3, 11.1 / 11.2; RFC 5816 2.2.1), DER as a SET: the bytes
 *  the signature covers. The SignerInfo carries the same contents under [0] IMPLICIT. */
export function signedAttributes(tst: Buffer, digest: ImprintHash, cert: TsaCertificateInfo): Buffer {
  // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT id-sha256 (omitted), certHash, issuerSerial }
  const issuerSerial = seq(seq(ctxCons(4, cert.issuer)), cert.serial);
  const essCertIdV2 = seq(octets(cert.sha256), issuerSerial);
  return derSetOf([
    attribute(TSA_OID.contentType, oid(TSA_OID.tstInfo)),
    attribute(TSA_OID.messageDigest, octets(createHash(digest).update(tst).digest())),
    attribute(TSA_OID.signingCertificateV2, seq(seq(essCertIdV2))),
  ]);
}

export interface TokenParts {
  readonly tst: Buffer;
  readonly digest: ImprintHash;
  /** DER of the SET of signed attributes (from {@link signedAttributes}). */
  readonly signedAttrs: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly signature: Buffer;
  readonly cert: TsaCertificateInfo;
  /** Certificates placed in the token (RFC 3161 2.4.1 certReq: at least the TSA's). */
  readonly certificates: readonly Buffer[];
}

/** TimeStampToken: ContentInfo(id-signedData, SignedData v3 over id-ct-TSTInfo), RFC 5652 5.1. */
export function timeStampToken(p: TokenParts): Buffer {
  const signerInfo = seq(
    smallInt(1), // v1: sid is issuerAndSerialNumber
    seq(p.cert.issuer, p.cert.serial),
    hashAlgorithmId(p.digest),
    tlv(0xa0, p.signedAttrs.subarray(readTlv(p.signedAttrs, 0).contentStart)),
    p.signatureAlgorithm,
    octets(p.signature),
  );
  const signedData = seq(
    smallInt(3), // eContentType is not id-data (RFC 5652 5.1)
    set(hashAlgorithmId(p.digest)),
    seq(oid(TSA_OID.tstInfo), ctxCons(0, octets(p.tst))),
    ...(p.certificates.length ? [tlv(0xa0, ...p.certificates)] : []),
    set(signerInfo),
  );
  return seq(oid(TSA_OID.signedData), ctxCons(0, signedData));
}

function statusInfo(status: number, text?: string, failure?: FailureInfo): Buffer {
  return seq(smallInt(status), ...(text ? [seq(tlv(TAG.UTF8String, Buffer.from(text, "utf8")))] : []), ...(failure !== undefined ? [namedBits([FAILURE[failure]])] : []));
}

/** TimeStampResp granted, with its token (RFC 3161 2.4.2). */
export const grantedResponse = (token: Buffer): Buffer => seq(statusInfo(PKI_STATUS.granted), token);

/** TimeStampResp rejected: no token, the failure bit and a reason a person can read. */
export const rejectionResponse = (failure: FailureInfo, text: string): Buffer => seq(statusInfo(PKI_STATUS.rejection, text.slice(0, 512), failure));

export interface ResponseSummary {
  readonly status: number;
  readonly failure?: FailureInfo;
  readonly text?: string;
  readonly token?: Buffer;
}

/** Reads a TimeStampResp's status (tests, the lab and the bench check answers with it). */
export function summarizeResponse(der: Buffer): ResponseSummary {
  const top = children(der, expectTag(readTlv(der, 0), TAG.SEQUENCE, "TimeStampResp"));
  const si = children(der, expectTag(top[0], TAG.SEQUENCE, "PKIStatusInfo"));
  const status = der[si[0].contentStart];
  let text: string | undefined;
  let failure: FailureInfo | undefined;
  for (const t of si.slice(1)) {
    if (t.tag === TAG.SEQUENCE)
      text = children(der, t)
        .map((s: Tlv) => content(der, s).toString("utf8"))
        .join(" ");
    if (t.tag === TAG.BIT_STRING) {
      const bits = content(der, t).subarray(1);
      const set_ = Object.entries(FAILURE).find(([, n]) => bits.length > n >> 3 && (bits[n >> 3] & (0x80 >> (n & 7))) !== 0);
      failure = set_?.[0] as FailureInfo | undefined;
    }
  }
  return { status, failure, text, token: top[1] ? raw(der, top[1]) : undefined };
}
