/**
 * A small CRL's TBSCertList (RFC 5280 5.1), built in memory: the CA CRLs of the offline root's
 * ceremonies. The issuing CAs' CRLs, up to millions of entries, are streamed by crl/encode.ts.
 */
import { ctxCons, seq, smallInt, time, tlv, uint } from "./der.js";
import { ext, extension, EXT } from "./certificate.js";

/** CRLReason codes (RFC 5280 5.3.1) a CA CRL may carry. */
export const CA_CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type CaCrlReason = keyof typeof CA_CRL_REASONS;

export interface TbsCrlInput {
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly number: bigint;
  readonly authorityKeyId: Uint8Array;
  readonly revoked: readonly { serial: Uint8Array; date: Date; reason?: CaCrlReason }[];
}

function bigintBytes(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, "hex");
}

/** TBSCertList (RFC 5280 5.1), v2, with authorityKeyIdentifier and cRLNumber (RFC 5280 5.2). */
export function buildTbsCrl(t: TbsCrlInput): Buffer {
  const parts: Buffer[] = [smallInt(1), Buffer.from(t.signatureAlgorithm), Buffer.from(t.issuer), time(t.thisUpdate), time(t.nextUpdate)];
  if (t.revoked.length > 0) {
    parts.push(
      seq(
        ...t.revoked.map((r) =>
          r.reason === undefined ? seq(uint(r.serial), time(r.date)) : seq(uint(r.serial), time(r.date), seq(extension(EXT.reasonCode, false, tlv(0x0a, Buffer.from([CA_CRL_REASONS[r.reason]]))))),
        ),
      ),
    );
  }
  parts.push(ctxCons(0, seq(ext.authorityKeyIdentifier(t.authorityKeyId), extension(EXT.cRLNumber, false, uint(bigintBytes(t.number))))));
  return seq(...parts);
}
