/** Subject attributes: OIDs, string types, upper bounds (RFC 5280 4.1.2.4, Appendix A). */
import { SUBJECT_ATTRIBUTES, type SubjectAttribute } from "../config/schema.js";
import { oid, seq, set, tlv, TAG } from "./der.js";

export const ATTRIBUTE_OIDS: Record<SubjectAttribute, string> = {
  CN: "2.5.4.3",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  serialNumber: "2.5.4.5",
  title: "2.5.4.12",
  organizationIdentifier: "2.5.4.97",
  E: "1.2.840.113549.1.9.1",
};
export const ATTRIBUTE_BY_OID: ReadonlyMap<string, SubjectAttribute> = new Map(Object.entries(ATTRIBUTE_OIDS).map(([k, v]) => [v, k as SubjectAttribute]));

/** Upper bounds in characters (RFC 5280 Appendix A: ub-common-name 64, ub-locality-name 128, ...). */
export const ATTRIBUTE_MAX_LENGTH: Record<SubjectAttribute, number> = {
  CN: 64,
  O: 64,
  OU: 64,
  C: 2,
  L: 128,
  ST: 128,
  serialNumber: 64,
  title: 64,
  organizationIdentifier: 64,
  E: 255,
};

/** Canonical order of attributes in the subject we encode (most significant first). */
export const ATTRIBUTE_ORDER: readonly SubjectAttribute[] = ["C", "ST", "L", "O", "OU", "organizationIdentifier", "title", "serialNumber", "CN", "E"];

export interface SubjectValue {
  readonly type: SubjectAttribute;
  readonly value: string;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
export const isPrintable = (s: string): boolean => PRINTABLE.test(s);

/**
 * Encodes a subject Name, one attribute per RDN in canonical order. String types: C and
 * serialNumber PrintableString (RFC 5280 Appendix A), E IA5String (RFC 5280 4.1.2.6),
 * everything else UTF8String (RFC 5280 4.1.2.6: MUST use UTF8String for DirectoryString),
 * so Lao-script names are carried exactly.
 */
export function encodeName(values: readonly SubjectValue[]): Buffer {
  return encodeRdns([...values].sort((a, b) => ATTRIBUTE_ORDER.indexOf(a.type) - ATTRIBUTE_ORDER.indexOf(b.type)));
}

/** The same encoding, in the order given (a lab name written "CN=…,O=…,C=…" keeps that order). */
export function encodeRdns(values: readonly SubjectValue[]): Buffer {
  return seq(
    ...values.map((v) => {
      const tag = v.type === "C" || v.type === "serialNumber" ? TAG.PrintableString : v.type === "E" ? TAG.IA5String : TAG.UTF8String;
      return set(seq(oid(ATTRIBUTE_OIDS[v.type]), tlv(tag, Buffer.from(v.value, tag === TAG.UTF8String ? "utf8" : "latin1"))));
    }),
  );
}

/** A Name from attribute → value (e.g. a ceremony file's `{ C, O, OU, CN }`), encoded as
 *  `encodeName` does; undefined values are left out. */
export const encodeDn = (dn: Partial<Record<SubjectAttribute, string>>): Buffer => encodeName(Object.entries(dn).flatMap(([type, value]) => (value === undefined ? [] : [{ type: type as SubjectAttribute, value }])));

/** "CN=x,O=y,C=LA" → the attributes in that order (no escapes, no multi-valued RDNs). */
export function parseSimpleDn(s: string): SubjectValue[] {
  return s.split(",").map((part) => {
    const i = part.indexOf("=");
    const type = part.slice(0, i).trim() as SubjectAttribute;
    if (i <= 0 || !SUBJECT_ATTRIBUTES.includes(type)) throw new Error(`subject "${s}": "${part}" is not attribute=value with one of ${SUBJECT_ATTRIBUTES.join(", ")}`);
    return { type, value: part.slice(i + 1).trim() };
  });
}
