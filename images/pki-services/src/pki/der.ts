/**
 * Just enough DER (X.690) to build a TBSCertificate by concatenating byte strings and to read
 * a CSR without copying: the certificate encoder is on the hot path of issuance, and a generic
 * ASN.1 object model cost 5x the HSM's signing time in a first try.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  PrintableString: 0x13,
  TeletexString: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function headerLength(n: number): number {
  if (n < 0x80) return 2;
  if (n < 0x100) return 3;
  if (n < 0x10000) return 4;
  if (n < 0x1000000) return 5;
  throw new Error(`DER length ${n} too large`);
}

/** tag || length || contents, written into one allocation (this is the hot path). */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  let n = 0;
  for (const c of contents) n += c.length;
  const h = headerLength(n);
  const out = Buffer.allocUnsafe(h + n);
  out[0] = tag;
  if (h === 2) out[1] = n;
  else {
    out[1] = 0x80 | (h - 2);
    for (let i = h - 1, v = n; i >= 2; i--, v >>= 8) out[i] = v & 0xff;
  }
  let p = h;
  for (const c of contents) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

export const seq = (...c: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...c);
export const set = (...c: Uint8Array[]): Buffer => tlv(TAG.SET, ...c);
export const octets = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
export const bool = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
/** [n] EXPLICIT / constructed context tag */
export const ctxCons = (n: number, ...c: Uint8Array[]): Buffer => tlv(0xa0 | n, ...c);
/** [n] IMPLICIT primitive context tag */
export const ctxPrim = (n: number, b: Uint8Array): Buffer => tlv(0x80 | n, b);

/** INTEGER from unsigned big-endian magnitude (adds the sign octet, strips leading zeros). */
export function uint(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return m[0] & 0x80 ? tlv(TAG.INTEGER, ZERO, m) : tlv(TAG.INTEGER, m);
}

export function smallInt(n: number): Buffer {
  if (n < 0 || n > 127) throw new Error("smallInt: 0..127");
  return Buffer.from([TAG.INTEGER, 1, n]);
}

const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  let b = oidCache.get(dotted);
  if (b) return b;
  const parts = dotted.split(".").map((p) => BigInt(p));
  const bytes: number[] = [];
  for (const arc of [parts[0] * 40n + parts[1], ...parts.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    let v = arc >> 7n;
    while (v > 0n) {
      chunk.unshift(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    bytes.push(...chunk);
  }
  b = tlv(TAG.OID, Buffer.from(bytes));
  oidCache.set(dotted, b);
  return b;
}

/** Dotted form of OBJECT IDENTIFIER contents (X.690 8.19). Arcs are Numbers while they stay
 *  exact (below 2^53), BigInts beyond (a UUID arc under 2.25 is 128 bits). */
export function oidToString(contents: Uint8Array): string {
  if (contents.length === 0) throw new DerError("OBJECT IDENTIFIER with no arcs (X.690 8.19.2)");
  let out = "";
  let v = 0;
  let big: bigint | undefined;
  for (let i = 0; i < contents.length; i++) {
    const byte = contents[i];
    if (big !== undefined) big = (big << 7n) | BigInt(byte & 0x7f);
    else if (v >= 2 ** 46) big = (BigInt(v) << 7n) | BigInt(byte & 0x7f);
    else v = v * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (out === "") {
      // X.690 8.19.4: the first subidentifier is 40 * first arc + second arc; the first arc is 0, 1 or 2.
      if (big !== undefined) out = `2.${big - 80n}`;
      else out = v < 80 ? `${Math.floor(v / 40)}.${v % 40}` : `2.${v - 80}`;
    } else out += `.${big ?? v}`;
    v = 0;
    big = undefined;
  }
  if (contents[contents.length - 1] & 0x80) throw new DerError("OBJECT IDENTIFIER ends inside a subidentifier (X.690 8.19.2)");
  return out;
}

/** BIT STRING with no unused bits. */
export const bitString = (b: Uint8Array): Buffer => tlv(TAG.BIT_STRING, ZERO, b);
const ZERO = Buffer.from([0]);

/** NamedBitList BIT STRING (X.690 11.2.2: trailing zero bits removed). `bits` are bit numbers. */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return Buffer.from([TAG.BIT_STRING, 1, 0]);
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  const unused = 7 - (max & 7);
  return tlv(TAG.BIT_STRING, Buffer.from([unused]), bytes);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, Zulu. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const rest = `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.UTCTime, Buffer.from(`${pad2(y % 100)}${rest}`, "latin1"));
  return tlv(TAG.GeneralizedTime, Buffer.from(`${y}${rest}`, "latin1"));
}

// ---------------------------------------------------------------- reading
export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the contents. */
  readonly end: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** Reads one TLV at `offset`, strictly (definite, minimal lengths; within `limit`). */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated at byte ${offset}`);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high-tag-number form at byte ${offset} not supported`);
  let len = buf[offset + 1];
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new DerError(`bad length at byte ${offset}`);
    if (p + n > limit) throw new DerError(`truncated at byte ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[p + i];
    if (len < 0x80 || (n > 1 && buf[p] === 0)) throw new DerError(`non-minimal length at byte ${offset}`);
    p += n;
  }
  if (p + len > limit) throw new DerError(`length at byte ${offset} runs past the end`);
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The children of a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** `t` when it has `tag`; a DerError naming `what` when it is absent or another type (a field
 *  missing from a hostile structure is an error about that field, never a TypeError). */
export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`${what} is missing`);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

export const raw = (buf: Uint8Array, t: Tlv): Buffer => Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
export const content = (buf: Uint8Array, t: Tlv): Buffer => Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.end - t.contentStart);
