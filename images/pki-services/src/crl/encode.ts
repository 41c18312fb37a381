/**
 * A full CRL (RFC 5280 5.1), encoded as a stream: the revoked entries arrive in batches (from a
 * database cursor), are encoded into a temporary file while their length is counted, and the
 * TBSCertList is then hashed from that file and signed (the digest goes to the HSM), so memory
 * does not grow with the number of entries (bench/crl.ts: 1,000,000 entries; ADR 0050).
 *
 * Profile (RFC 5280 5.1–5.3, BR 7.2): v2; issuer = the CA certificate's subject; thisUpdate /
 * nextUpdate; entries with userCertificate, revocationDate and the entry extensions reasonCode
 * (omitted for unspecified, BR 7.2.2 / 4.9.1.1) and invalidityDate (RFC 5280 5.3.2);
 * crlExtensions authorityKeyIdentifier (5.2.1) and cRLNumber (5.2.3).
 */
import { createReadStream, createWriteStream, rmSync, renameSync, type WriteStream } from "node:fs";
import { createVerify, createPublicKey } from "node:crypto";
import { once } from "node:events";
import { bitString, ctxCons, ctxPrim, octets, oid, seq, smallInt, time, tlv, TAG } from "../pki/der.js";
import { newHash, type DigestSigner } from "./digest-signer.js";

/** One revoked certificate as the database gives it. */
export interface CrlEntryRow {
  /** Serial number, hex. */
  readonly serial: string;
  /** revocationDate as YYYYMMDDHHMMSS (UTC). */
  readonly revokedAt: string;
  /** RFC 5280 5.3.1 CRLReason; null or 0 → no reasonCode extension. */
  readonly reason: number | null;
  /** invalidityDate as YYYYMMDDHHMMSS (UTC), or null. */
  readonly invalidity: string | null;
}

/** DER length octets for any length up to 2^32 − 1 (der.ts stops at 16 MB; a CRL can be more). */
export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n < 0x1000000) return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  if (n <= 0xffffffff) return Buffer.from([0x84, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  throw new Error(`DER length ${n} too large`);
}
const header = (tag: number, len: number): Buffer => Buffer.concat([Buffer.from([tag]), derLength(len)]);

/** RFC 5280 5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050. */
function putTime(buf: Buffer, p: number, ymdhms: string): number {
  if (ymdhms.length !== 14) throw new Error(`bad time "${ymdhms}"`);
  const y = Number(ymdhms.slice(0, 4));
  if (y >= 1950 && y < 2050) {
    buf[p++] = TAG.UTCTime;
    buf[p++] = 13;
    p += buf.write(ymdhms.slice(2), p, "latin1");
  } else {
    buf[p++] = TAG.GeneralizedTime;
    buf[p++] = 15;
    p += buf.write(ymdhms, p, "latin1");
  }
  buf[p++] = 0x5a; // Z
  return p;
}

const REASON_EXT_PREFIX = Buffer.from("300a0603551d1504030a01", "hex"); // reasonCode, ENUMERATED (RFC 5280 5.3.1)
const INVALIDITY_EXT_PREFIX = Buffer.from("30180603551d180411180f", "hex"); // invalidityDate, GeneralizedTime (5.3.2)
/** Largest encoding of one entry: 20-octet serial + sign octet, GeneralizedTime, both extensions. */
const MAX_ENTRY = 2 + 23 + 17 + 2 + 12 + 26;

/** Encodes one revokedCertificates entry at `p`; returns the new offset. */
export function putEntry(buf: Buffer, p: number, e: CrlEntryRow): number {
  const start = p;
  p += 2; // SEQUENCE header, length patched below (always < 128)
  // userCertificate INTEGER: unsigned magnitude, minimal, sign octet when the top bit is set.
  let hex = e.serial;
  let i = 0;
  while (i < hex.length - 2 && hex[i] === "0" && hex[i + 1] === "0") i += 2;
  if (i) hex = hex.slice(i);
  if (hex.length === 0 || hex.length % 2 || hex.length > 40) throw new Error(`serial "${e.serial}" is not 1..20 octets of hex`);
  const n = hex.length / 2;
  const signOctet = parseInt(hex[0], 16) >= 8 ? 1 : 0;
  buf[p++] = TAG.INTEGER;
  buf[p++] = n + signOctet;
  if (signOctet) buf[p++] = 0;
  p += buf.write(hex, p, "hex");
  p = putTime(buf, p, e.revokedAt);
  const reason = e.reason ?? 0;
  if (reason !== 0 || e.invalidity) {
    const extStart = p;
    p += 2;
    if (reason !== 0) {
      if (reason < 0 || reason > 10 || reason === 7) throw new Error(`reason ${reason} is not an RFC 5280 CRLReason`);
      REASON_EXT_PREFIX.copy(buf, p);
      p += REASON_EXT_PREFIX.length;
      buf[p++] = reason;
    }
    if (e.invalidity) {
      if (e.invalidity.length !== 14) throw new Error(`bad invalidity date "${e.invalidity}"`);
      INVALIDITY_EXT_PREFIX.copy(buf, p);
      p += INVALIDITY_EXT_PREFIX.length;
      p += buf.write(e.invalidity, p, "latin1");
      buf[p++] = 0x5a;
    }
    buf[extStart] = TAG.SEQUENCE;
    buf[extStart + 1] = p - extStart - 2;
  }
  buf[start] = TAG.SEQUENCE;
  buf[start + 1] = p - start - 2;
  return p;
}

export interface CrlOptions {
  /** DER Name of the issuer (the CA certificate's subject, RFC 5280 5.1.2.3). */
  readonly issuerDer: Buffer;
  /** The CA's subjectKeyIdentifier (RFC 5280 5.2.1). */
  readonly authorityKeyId: Buffer;
  readonly crlNumber: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly signer: DigestSigner;
  /** Batches of entries (e.g. FETCH from a cursor). */
  readonly entries: AsyncIterable<readonly CrlEntryRow[]>;
  /** Output file (DER); written as `out + ".tmp"` then renamed. */
  readonly out: string;
}

export interface CrlResult {
  readonly entries: number;
  readonly size: number;
  readonly tbsHead: Buffer;
}

function bigintToMagnitude(n: bigint): Buffer {
  if (n < 0n) throw new Error("negative CRL number");
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const b = Buffer.from(hex, "hex");
  if (b.length > 20) throw new Error("cRLNumber longer than 20 octets (RFC 5280 5.2.3)");
  return b;
}

async function write(ws: WriteStream, b: Buffer): Promise<void> {
  if (!ws.write(b)) await once(ws, "drain");
}

async function pipeFile(path: string, sink: (b: Buffer) => Promise<void> | void): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) await sink(chunk as Buffer);
}

/** Streams, signs and writes a full CRL. Verifies the signature over the written TBS with the
 *  signer's public key before renaming the file into place. */
export async function writeCrl(o: CrlOptions): Promise<CrlResult> {
  if (o.nextUpdate <= o.thisUpdate) throw new Error("nextUpdate must be after thisUpdate (RFC 5280 5.1.2.5)");
  const entriesFile = `${o.out}.entries.tmp`;
  const tmp = `${o.out}.tmp`;
  try {
    // 1. Entries → temp file, counting bytes.
    const ws = createWriteStream(entriesFile);
    let count = 0;
    let total = 0;
    for await (const batch of o.entries) {
      const buf = Buffer.allocUnsafe(batch.length * MAX_ENTRY);
      let p = 0;
      for (const e of batch) p = putEntry(buf, p, e);
      count += batch.length;
      total += p;
      await write(ws, buf.subarray(0, p));
    }
    ws.end();
    await once(ws, "finish");

    // 2. TBSCertList around the entries (RFC 5280 5.1.2).
    const akid = seq(oid("2.5.29.35"), octets(seq(ctxPrim(0, o.authorityKeyId))));
    const crlNumber = seq(oid("2.5.29.20"), octets(tlv(TAG.INTEGER, signedMagnitude(bigintToMagnitude(o.crlNumber)))));
    const exts = ctxCons(0, seq(akid, crlNumber));
    const fixed = Buffer.concat([smallInt(1), o.signer.signatureAlgorithm, o.issuerDer, time(o.thisUpdate), time(o.nextUpdate)]);
    const revHeader = count ? header(TAG.SEQUENCE, total) : Buffer.alloc(0); // absent when empty (5.1.2.6)
    const tbsLen = fixed.length + revHeader.length + total + exts.length;
    const tbsHead = Buffer.concat([header(TAG.SEQUENCE, tbsLen), fixed, revHeader]);

    // 3. Hash the TBS from the file and sign the digest in the HSM.
    const h = newHash(o.signer);
    h.update(tbsHead);
    await pipeFile(entriesFile, (b) => void h.update(b));
    h.update(exts);
    const signature = await o.signer.signDigest(h.digest());

    // 4. Assemble CertificateList (5.1.1) and verify while writing.
    const sigBits = bitString(signature);
    const outerLen = tbsHead.length + total + exts.length + o.signer.signatureAlgorithm.length + sigBits.length;
    const verifier = createVerify(o.signer.hash);
    const out = createWriteStream(tmp);
    await write(out, header(TAG.SEQUENCE, outerLen));
    await write(out, tbsHead);
    verifier.update(tbsHead);
    await pipeFile(entriesFile, async (b) => {
      verifier.update(b);
      await write(out, b);
    });
    verifier.update(exts);
    await write(out, exts);
    await write(out, o.signer.signatureAlgorithm);
    await write(out, sigBits);
    out.end();
    await once(out, "finish");
    const key = createPublicKey({ key: o.signer.spki, format: "der", type: "spki" });
    if (!verifier.verify(key, signature)) throw new Error("the HSM signature over the CRL does not verify with the CA public key; CRL discarded");
    renameSync(tmp, o.out);
    const size = header(TAG.SEQUENCE, outerLen).length + outerLen;
    return { entries: count, size, tbsHead };
  } finally {
    rmSync(entriesFile, { force: true });
    rmSync(tmp, { force: true });
  }
}

function signedMagnitude(m: Buffer): Buffer {
  return m[0] & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m;
}

/** PEM with the `X509 CRL` label (RFC 7468 5; OpenSSL refuses `BEGIN CRL`), streamed. */
export async function derFileToPem(derPath: string, pemPath: string, label = "X509 CRL"): Promise<void> {
  const out = createWriteStream(pemPath);
  await write(out, Buffer.from(`-----BEGIN ${label}-----\n`));
  let carry = Buffer.alloc(0);
  const LINE = 48; // 48 bytes → 64 base64 characters
  await pipeFile(derPath, async (chunk) => {
    const b = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = b.length - (b.length % LINE);
    const lines: string[] = [];
    for (let i = 0; i < whole; i += LINE) lines.push(b.toString("base64", i, i + LINE));
    if (lines.length) await write(out, Buffer.from(`${lines.join("\n")}\n`));
    carry = Buffer.from(b.subarray(whole));
  });
  if (carry.length) await write(out, Buffer.from(`${carry.toString("base64")}\n`));
  await write(out, Buffer.from(`-----END ${label}-----\n`));
  out.end();
  await once(out, "finish");
}
