/**
 * Pre-issuance lint, deny by default (style 9): a request passes only if its key, names,
 * requested extensions and validity fit the profile. Every problem has an exact message that
 * names the profile, the value and the rule; the HTTP API returns them as they are.
 */
import { domainToASCII } from "node:url";
import type { SubjectAttribute } from "../config/schema.js";
import type { ParsedCsr } from "./csr.js";
import { BR_OV_POLICY, EC_FORBIDDEN_KEY_USAGES, isCabfTlsPolicy } from "../config/cp-rules.js";
import { children, content, oid, oidToString, readTlv, TAG, time, type Tlv } from "./der.js";
import { ATTRIBUTE_MAX_LENGTH, isPrintable, type SubjectValue } from "./names.js";
import { EXT, spkiKeyFamily, type CompiledProfile } from "./profile.js";

export class LintError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "LintError";
  }
}

const DAY_MS = 86_400_000;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

// ------------------------------------------------------------------ keys (BR 6.1.5, 6.1.6, 7.1.3.1)

/** BR 7.1.3.1.1 / 7.1.3.1.2: the exact DER of the SubjectPublicKeyInfo AlgorithmIdentifier. */
const SPKI_ALGORITHMS: Record<string, string> = {
  "300d06092a864886f70d0101010500": "RSA",
  "301306072a8648ce3d020106082a8648ce3d030107": "EC P-256",
  "301006072a8648ce3d020106052b81040022": "EC P-384",
  "301006072a8648ce3d020106052b81040023": "EC P-521",
};
/** Uncompressed point length (0x04 || X || Y) per curve (RFC 5480 2.2: compressed points MUST NOT). */
const EC_POINT_LENGTH: Record<string, number> = { "EC P-256": 65, "EC P-384": 97, "EC P-521": 133 };
/** Signature algorithm OIDs by the key family that can make them (RFC 2986 4.2; RFC 5758 3.2, RFC 4055 5). */
const SIGNATURE_FAMILY: Record<string, "RSA" | "EC"> = {
  "1.2.840.10045.4.3.2": "EC",
  "1.2.840.10045.4.3.3": "EC",
  "1.2.840.10045.4.3.4": "EC",
  "1.2.840.113549.1.1.11": "RSA",
  "1.2.840.113549.1.1.12": "RSA",
  "1.2.840.113549.1.1.13": "RSA",
};
const F4 = 65537n;
const MAX_EXPONENT = (1n << 256n) - 1n;

const bigint = (b: Buffer): bigint => (b.length ? BigInt(`0x${b.toString("hex")}`) : 0n);

/**
 * The subject public key as the CA will certify it: the exact AlgorithmIdentifier encoding
 * (BR 7.1.3.1), an RSA modulus and exponent BR 6.1.6 accepts, an uncompressed EC point, and a
 * CSR signature algorithm of the key's own family. Returns the problems (empty: accepted).
 */
export function lintPublicKey(spki: Buffer, signatureAlgorithmOid?: string): string[] {
  const problems: string[] = [];
  let alg: Tlv, key: Tlv;
  try {
    [alg, key] = children(spki, readTlv(spki, 0));
  } catch {
    return ["subject public key is not a DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7)"];
  }
  const algHex = spki.subarray(alg.start, alg.end).toString("hex");
  const kind = SPKI_ALGORITHMS[algHex];
  const family = spkiKeyFamily(spki);
  if (!kind) {
    if (family === "RSA") problems.push(`RSA SubjectPublicKeyInfo algorithm must be exactly ${"300d06092a864886f70d0101010500"} (rsaEncryption with NULL parameters), found ${algHex} (BR 7.1.3.1.1)`);
    else if (family === "EC") problems.push(`EC SubjectPublicKeyInfo algorithm must be id-ecPublicKey with a named curve P-256, P-384 or P-521, encoded exactly; found ${algHex} (BR 7.1.3.1.2)`);
    else problems.push(`subject public key algorithm ${algHex} is neither RSA nor ECDSA (BR 6.1.5, 7.1.3.1)`);
  }
  if (key?.tag !== TAG.BIT_STRING || spki[key.contentStart] !== 0) return [...problems, "subjectPublicKey must be a BIT STRING with no unused bits (RFC 5280 4.1)"];
  const bits = content(spki, key).subarray(1);
  if (family === "RSA") {
    try {
      const [n, e] = children(bits, readTlv(bits, 0));
      if (n?.tag !== TAG.INTEGER || e?.tag !== TAG.INTEGER) throw new Error();
      const nb = content(bits, n);
      const eb = content(bits, e);
      if (nb[0] & 0x80 || eb[0] & 0x80) problems.push("RSA modulus and exponent must be positive INTEGERs (RFC 8017 A.1.1)");
      const exponent = bigint(eb);
      if (exponent < 3n || exponent % 2n === 0n) problems.push(`RSA public exponent ${exponent} must be an odd number of at least 3 (BR 6.1.6)`);
      else if (exponent < F4 || exponent > MAX_EXPONENT) problems.push(`RSA public exponent ${exponent} must be in 2^16+1 .. 2^256-1 (BR 6.1.6, CP 6.1.6)`);
      if ((nb[nb.length - 1] & 1) === 0) problems.push("RSA modulus must be odd (BR 6.1.6)");
    } catch {
      problems.push("RSA subjectPublicKey is not a DER RSAPublicKey (RFC 8017 A.1.1)");
    }
  } else if (family === "EC" && kind) {
    if (bits[0] !== 0x04) problems.push(`EC public key is a ${bits[0] === 0x02 || bits[0] === 0x03 ? "compressed" : "malformed"} point; it must be uncompressed (0x04 || X || Y) (RFC 5480 2.2, BR 7.1.3.1.2)`);
    else if (bits.length !== EC_POINT_LENGTH[kind]) problems.push(`EC public key is ${bits.length} octets; an uncompressed ${kind} point is ${EC_POINT_LENGTH[kind]} (RFC 5480 2.2)`);
  }
  if (signatureAlgorithmOid && family) {
    const sigFamily = SIGNATURE_FAMILY[signatureAlgorithmOid];
    if (sigFamily && sigFamily !== family)
      problems.push(
        `CSR signature algorithm ${signatureAlgorithmOid} is ${sigFamily === "EC" ? "ECDSA" : "RSA"}, but the key is ${family === "EC" ? "ECDSA" : "RSA"} (RFC 2986 4.2: the request is signed with the subject key)`,
      );
  }
  return problems;
}

// ------------------------------------------------------------------ names (RFC 5280 4.1.2.4, 4.1.2.6, BR 7.1.4)

/** Characters a name must never hold: C0 and C1 controls, DEL; bidirectional overrides,
 *  embeddings, isolates and marks (Trojan Source, CVE-2021-42574); zero-width characters and
 *  the BOM, which make two different names look the same (BR 7.1.4.4: no misleading
 *  information; RFC 5280 4.1.2.4, RFC 4518 2.2 map them away on comparison). */
const FORBIDDEN_CHARACTERS: readonly [RegExp, string][] = [
  [/[\u0000-\u001f\u007f]/u, "C0 control characters"],
  [/[\u0080-\u009f]/u, "C1 control characters"],
  [/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u, "bidirectional control characters"],
  [/[\u200b-\u200d\u2060\ufeff\u00ad]/u, "zero-width characters"],
  [/[\ud800-\udfff\ufffd]/u, "unpaired surrogates or U+FFFD"],
];

/** The first kind of forbidden character in `value`, if any, with its position (1-based, in
 *  characters). */
export function forbiddenCharacter(value: string): string | undefined {
  for (const [re, what] of FORBIDDEN_CHARACTERS) {
    const m = re.exec(value);
    if (m) return `${what} (U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} at character ${[...value.slice(0, m.index)].length + 1})`;
  }
  return undefined;
}

/** Top-level and special-use names that are not public DNS (BR 1.6.1 "Internal Name": not
 *  resolvable in the public DNS; RFC 6761, RFC 6762 Appendix G, RFC 8375, RFC 9476,
 *  ICANN's .internal), and the reverse zones BR 7.1.2.7.12 forbids from 2026-03-15. */
const INTERNAL_SUFFIXES = [
  "local",
  "localhost",
  "internal",
  "test",
  "example",
  "invalid",
  "onion",
  "alt",
  "home.arpa",
  "lan",
  "home",
  "corp",
  "intranet",
  "private",
  "localdomain",
  "example.com",
  "example.net",
  "example.org",
];

/** Why `name` (lower-case, already in preferred syntax) is not a public FQDN, if it is not. */
export function internalNameProblem(name: string): string | undefined {
  const labels = name.split(".");
  if (labels.every((l) => /^[0-9]+$/.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1])) return "is an IP address literal or ends in a numeric label; put an IP address in iPAddress, not dNSName (BR 7.1.2.7.12)";
  const reverse = ["in-addr.arpa", "ip6.arpa"].find((s) => name === s || name.endsWith(`.${s}`));
  if (reverse) return `ends in an IP Address Reverse Zone Suffix (.${reverse}) (BR 7.1.2.7.12)`;
  const suffix = INTERNAL_SUFFIXES.find((s) => name === s || name.endsWith(`.${s}`));
  if (suffix) return `is an Internal Name or reserved domain (.${suffix}) (BR 7.1.2.7.12, 1.6.1)`;
  return undefined;
}

/** RFC 5280 Appendix A / X.520 names of the upper bounds, for the messages. */
const UB_NAMES: Record<SubjectAttribute, string> = {
  CN: "common-name",
  O: "organization-name",
  OU: "organizational-unit-name",
  C: "country-name (2)",
  L: "locality-name",
  ST: "state-name",
  serialNumber: "serial-number",
  title: "title",
  organizationIdentifier: "organization-identifier",
  E: "emailaddress-length",
};

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Why `address` is not a mailbox this CA certifies, if it is not: an RFC 5321 4.1.2 Mailbox with
 *  a dot-atom local part (no quoted strings, ASCII only: rfc822Name is IA5String, RFC 5280
 *  4.2.1.6) at a public fully-qualified domain (S/MIME BR 7.1.2.3, 3.2.2). */
export function mailboxProblem(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  if (at < 1 || at === address.length - 1) return "is not a mailbox (local-part@domain) (RFC 5321 4.1.2)";
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (address.length > 254) return `is ${address.length} characters, more than 254 (RFC 5321 4.5.3.1)`;
  if (local.length > 64) return `has a local part of ${local.length} characters, more than 64 (RFC 5321 4.5.3.1.1)`;
  if (!LOCAL_PART.test(local)) return "has a local part that is not an RFC 5322 dot-atom of ASCII characters (RFC 5321 4.1.2, RFC 5280 4.2.1.6)";
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l)) || domain.length > 253) return `has a domain (${domain}) that is not a fully-qualified domain name (RFC 5321 4.1.2)`;
  const internal = internalNameProblem(domain);
  if (internal) return `has a domain (${domain}) that ${internal.replace(" (BR 7.1.2.7.12, 1.6.1)", "").replace(" (BR 7.1.2.7.12)", "")} (S/MIME BR 3.2.2)`;
  return undefined;
}

export interface RequestLintInput {
  readonly csr: ParsedCsr;
  /** Requested validity in days; the profile maximum when absent. */
  readonly validityDays?: number;
}

export interface LintedRequest {
  readonly subject: SubjectValue[];
  readonly dns: string[];
  readonly email: string[];
  readonly validityDays: number;
}

/** Lints a CSR against a compiled profile; throws LintError listing every problem. */
export function lintRequest(p: CompiledProfile, input: RequestLintInput): LintedRequest {
  const { profile, name } = p;
  const problems: string[] = [];
  const { csr } = input;

  // Key (BR 6.1.5, 6.1.6)
  if (!csr.keyAlgorithm || !profile.allowedKeyAlgorithms.includes(csr.keyAlgorithm)) {
    problems.push(`key ${csr.keyDescription} is not allowed by profile "${name}" (allowed: ${profile.allowedKeyAlgorithms.join(", ")}) (BR 6.1.5)`);
  } else problems.push(...lintPublicKey(csr.spki, csr.signatureAlgorithmOid));

  // Subject (BR 7.1.4, RFC 5280 4.1.2.6): only listed attributes, each once (OU may repeat).
  const allowed = new Set<SubjectAttribute>([...profile.subject.required, ...profile.subject.optional]);
  const subject: SubjectValue[] = [];
  const seen = new Map<string, number>();
  for (const a of csr.subject) {
    const label = a.type ?? a.oid;
    seen.set(label, (seen.get(label) ?? 0) + 1);
    if (a.rdnSize !== 1) {
      problems.push(`subject attribute ${label} is in a multi-valued RDN, which profile "${name}" does not allow`);
      continue;
    }
    if (!a.type || !allowed.has(a.type as SubjectAttribute)) {
      problems.push(`subject attribute ${label} is not allowed by profile "${name}" (allowed: ${[...allowed].join(", ")})`);
      continue;
    }
    const type = a.type as SubjectAttribute;
    const value = a.value;
    if (value.trim() !== value || value.length === 0) {
      problems.push(`subject attribute ${type} is empty or has leading/trailing spaces`);
      continue;
    }
    const bad = forbiddenCharacter(value);
    if (bad) {
      problems.push(`subject attribute ${type} contains ${bad} (RFC 5280 4.1.2.4, BR 7.1.4.4)`);
      continue;
    }
    // String types as the CSR encodes them: a PrintableString holds only its 74 characters, an
    // IA5String only ASCII (X.680 41.4, 41.2), and TeletexString is refused: its T.61 repertoire
    // cannot be decoded unambiguously (RFC 5280 4.1.2.4: PrintableString or UTF8String).
    if (a.tag === TAG.TeletexString) {
      problems.push(`subject attribute ${type} is a TeletexString; use UTF8String or PrintableString (RFC 5280 4.1.2.4)`);
      continue;
    }
    if (a.tag === TAG.PrintableString && !isPrintable(value)) {
      problems.push(`subject attribute ${type} is a PrintableString holding characters PrintableString does not allow (X.680 41.4); use UTF8String`);
      continue;
    }
    if (a.tag === TAG.IA5String && /[^\u0000-\u007f]/.test(value)) {
      problems.push(`subject attribute ${type} is an IA5String holding non-ASCII characters (X.680 41.2)`);
      continue;
    }
    // Upper bounds count characters (X.520 / RFC 5280 Appendix A ub-*: a DirectoryString of
    // SIZE (1..ub) counts characters, not octets); a Lao character is 3 UTF-8 octets, so the
    // octets are reported too (docs/adr/0071-name-bounds-in-characters.md).
    const chars = [...value].length;
    if (chars > ATTRIBUTE_MAX_LENGTH[type]) {
      problems.push(
        `subject attribute ${type} has ${chars} characters (${Buffer.byteLength(value, "utf8")} UTF-8 octets), more than ${ATTRIBUTE_MAX_LENGTH[type]} characters (RFC 5280 Appendix A ub-${UB_NAMES[type]}); ` +
          "the bound counts characters, and some verifiers count UTF-8 octets instead, so a Lao name near the bound may be refused by them (docs/adr/0071-name-bounds-in-characters.md)",
      );
      continue;
    }
    if (type === "C") {
      if (!/^[A-Z]{2}$/.test(value)) problems.push(`subject attribute C (${value}) must be two capital letters (ISO 3166-1)`);
      else if (profile.subject.countries.length && !profile.subject.countries.includes(value)) {
        problems.push(`subject attribute C (${value}) is not allowed by profile "${name}" (allowed countries: ${profile.subject.countries.join(", ")})`);
      }
    }
    if (type === "serialNumber" && !isPrintable(value)) problems.push(`subject attribute serialNumber must be PrintableString characters`);
    if (type === "E") {
      const m = mailboxProblem(value);
      if (m) problems.push(`subject attribute E (${value}) ${m}`);
    }
    subject.push({ type, value });
  }
  for (const [label, n] of seen) {
    if (n > 1 && label !== "OU") problems.push(`subject attribute ${label} appears ${n} times; at most once is allowed`);
  }
  for (const r of profile.subject.required) {
    if (!seen.has(r)) problems.push(`subject attribute ${r} is required by profile "${name}"`);
  }
  // BR 7.1.2.7.4: an organization-validated TLS certificate names O, C, and L or ST; never OU.
  if (profile.policyOids.includes(BR_OV_POLICY)) {
    for (const [a, what] of [
      ["O", "organizationName"],
      ["C", "countryName"],
    ] as const)
      if (!seen.has(a) && profile.subject.required.includes(a) === false) problems.push(`subject ${what} (${a}) is required in an organization-validated TLS certificate (BR 7.1.2.7.4)`);
    if (!seen.has("L") && !seen.has("ST") && !profile.subject.required.some((a) => a === "L" || a === "ST"))
      problems.push("subject localityName (L) or stateOrProvinceName (ST) is required in an organization-validated TLS certificate (BR 7.1.2.7.4)");
    if (seen.has("OU")) problems.push("subject organizationalUnitName (OU) must not be in a TLS certificate (BR 7.1.2.7.4)");
  }

  // Requested extensions: only subjectAltName, and only the name types the profile allows.
  for (const e of csr.extensions) {
    if (e.oid !== EXT.subjectAltName) problems.push(`CSR requests extension ${e.oid}, which profile "${name}" does not allow (only subjectAltName)`);
  }
  const dns: string[] = [];
  const email: string[] = [];
  if (csr.san.other.length) problems.push(`subjectAltName types ${csr.san.other.join(", ")} are not allowed by profile "${name}" (only dNSName, rfc822Name)`);
  for (const d of csr.san.dns) {
    if (!profile.subjectAltNames.dns) {
      problems.push(`subjectAltName dNSName ${d} is not allowed by profile "${name}"`);
      continue;
    }
    const lower = d.toLowerCase();
    const labels = lower.split(".");
    // BR 7.1.2.7.12: a fully-qualified, preferred-syntax name (P-labels); wildcards refused here.
    if (labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l)) || domainToASCII(lower) !== lower || lower.length > 253) {
      problems.push(`subjectAltName dNSName ${d} is not a fully-qualified domain name in preferred syntax (BR 7.1.2.7.12)`);
      continue;
    }
    const internal = internalNameProblem(lower);
    if (internal) {
      problems.push(`subjectAltName dNSName ${d} ${internal}`);
      continue;
    }
    dns.push(lower);
  }
  for (const m of csr.san.email) {
    if (!profile.subjectAltNames.email) {
      problems.push(`subjectAltName rfc822Name ${m} is not allowed by profile "${name}"`);
      continue;
    }
    const bad = mailboxProblem(m);
    if (bad) {
      problems.push(`subjectAltName rfc822Name ${m} ${bad}`);
      continue;
    }
    email.push(m);
  }
  if (profile.subjectAltNames.required && csr.san.dns.length + csr.san.email.length === 0) {
    problems.push(`profile "${name}" requires at least one subjectAltName`);
  }
  // BR 7.1.4.3: a TLS CN must repeat one of the SAN dNSNames.
  const cn = subject.find((s) => s.type === "CN");
  if (profile.kind === "tls-server" && cn && !dns.includes(cn.value.toLowerCase())) {
    problems.push(`subject CN ${cn.value} must be one of the subjectAltName dNSNames (BR 7.1.4.3)`);
  }
  if (subject.length === 0 && dns.length + email.length === 0) problems.push(`certificate would have neither a subject nor a subjectAltName (RFC 5280 4.1.2.6)`);

  // Validity (CP/CPS 6.3.2)
  const validityDays = input.validityDays ?? profile.maxValidityDays;
  if (!Number.isInteger(validityDays) || validityDays < 1) problems.push(`validityDays (${validityDays}) must be a positive integer`);
  else if (validityDays > profile.maxValidityDays) {
    problems.push(`validityDays (${validityDays}) exceeds the maximum of profile "${name}" (${profile.maxValidityDays}) (CP/CPS 6.3.2)`);
  }

  if (problems.length) throw new LintError(problems);
  return { subject, dns, email, validityDays };
}

/**
 * Lints the TBSCertificate bytes that are about to be signed (the last gate before the HSM):
 * they are re-read independently of the code that built them. Cheap: no object model.
 */
export function lintTbs(p: CompiledProfile, tbs: Buffer, expect: { serial: Buffer; notBefore: Date; notAfter: Date }): void {
  const problems: string[] = [];
  const top = readTlv(tbs, 0);
  if (top.tag !== TAG.SEQUENCE || top.end !== tbs.length) throw new LintError(["TBSCertificate is not one DER SEQUENCE"]);
  const f = children(tbs, top);
  if (f.length !== 8) throw new LintError([`TBSCertificate has ${f.length} fields, expected 8 (v3 with extensions)`]);
  const [ver, serial, sigAlg, issuer, validity, subjectT, spkiT, exts] = f;
  if (ver.tag !== 0xa0 || tbs[ver.contentStart] !== TAG.INTEGER || tbs[ver.contentStart + 2] !== 2) problems.push("version must be v3");
  const s = tbs.subarray(serial.contentStart, serial.end);
  if (!s.equals(expect.serial) || s[0] & 0x80 || s.length < 9 || s.length > 20) problems.push("serialNumber is not the positive 9..20-octet serial reserved for this request (BR 7.1.2.7)");
  if (!tbs.subarray(sigAlg.start, issuer.end).equals(p.sigAlgAndIssuer)) problems.push("signature algorithm or issuer differs from the CA's");
  // The validity bytes must be exactly the encoding of the checked dates (RFC 5280 4.1.2.5).
  if (!tbs.subarray(validity.contentStart, validity.end).equals(Buffer.concat([time(expect.notBefore), time(expect.notAfter)]))) problems.push("validity differs from the request");
  const ms = expect.notAfter.getTime() - expect.notBefore.getTime() + 1000; // inclusive
  if (ms > p.profile.maxValidityDays * DAY_MS) problems.push(`validity exceeds ${p.profile.maxValidityDays} days (CP/CPS 6.3.2)`);
  if (exts.tag !== 0xa3) problems.push("extensions missing");
  else {
    const ids = new Set<string>();
    const values = new Map<string, Buffer>();
    for (const e of children(tbs, readTlv(tbs, exts.contentStart, exts.end))) {
      const parts = children(tbs, e);
      const o = parts[0];
      const id = tbs.toString("latin1", o.contentStart, o.end); // OID contents as a map key
      if (ids.has(id)) problems.push(`extension ${oidToString(Buffer.from(id, "latin1"))} appears twice (RFC 5280 4.2)`);
      ids.add(id);
      values.set(id, content(tbs, parts[parts.length - 1]));
      if (!p.allowedExtensionKeys.has(id)) problems.push(`extension ${oidToString(Buffer.from(id, "latin1"))} is not in profile "${p.name}"`);
    }
    if (!ids.has(BASIC_CONSTRAINTS_KEY) || !ids.has(KEY_USAGE_KEY)) problems.push("basicConstraints and keyUsage must be present");
    problems.push(...lintTbsContent(p, tbs.subarray(subjectT.start, subjectT.end), tbs.subarray(spkiT.start, spkiT.end), values));
  }
  if (problems.length) throw new LintError(problems);
}

const KU_NAMES = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"] as const;

/** The named bits set in a DER BIT STRING (RFC 5280 4.2.1.3 KeyUsage). */
function keyUsageNames(der: Buffer): string[] {
  const bits = content(der, readTlv(der, 0)).subarray(1);
  return KU_NAMES.filter((_, i) => (bits[i >> 3] ?? 0) & (0x80 >> (i & 7)));
}

/** The policy OIDs of a DER CertificatePolicies value. */
function policyOids(der: Buffer): string[] {
  return children(der, readTlv(der, 0)).map((pi) => oidToString(content(der, children(der, pi)[0])));
}

/** Attribute OIDs of a DER Name. */
function nameAttributeOids(der: Buffer): string[] {
  return children(der, readTlv(der, 0)).flatMap((rdn) => children(der, rdn).map((atv) => oidToString(content(der, children(der, atv)[0]))));
}

/**
 * The TBS rules that depend on what the certificate says, re-read from its bytes (not from the
 * compiled profile): key usage by key type, the OCSP responder's extensions, the TLS policy and
 * the organization-validated subject.
 */
function lintTbsContent(p: CompiledProfile, subject: Buffer, spki: Buffer, exts: Map<string, Buffer>): string[] {
  const problems: string[] = [];
  const family = spkiKeyFamily(spki);
  const kuDer = exts.get(KEY_USAGE_KEY);
  const ku = kuDer ? keyUsageNames(kuDer) : [];
  if (family === "EC") {
    for (const k of ku) if ((EC_FORBIDDEN_KEY_USAGES as readonly string[]).includes(k)) problems.push(`keyUsage ${k} must not be asserted for an ECDSA key (RFC 8813 3, BR 7.1.2.7.11)`);
    if (!ku.includes("digitalSignature") && !ku.includes("nonRepudiation")) problems.push("keyUsage of an ECDSA key must assert digitalSignature (RFC 8813 3, BR 7.1.2.7.11)");
  }
  for (const k of ku) if (k === "keyCertSign" || k === "cRLSign" || k === "encipherOnly" || k === "decipherOnly") problems.push(`keyUsage ${k} must not be asserted in an end-entity certificate (RFC 5280 4.2.1.3)`);
  const kind = p.profile.kind;
  const policies = exts.has(CERTIFICATE_POLICIES_KEY) ? policyOids(exts.get(CERTIFICATE_POLICIES_KEY)!) : [];
  if (kind === "ocsp-signing") {
    // BR 7.1.2.8.2: cRLDistributionPoints MUST NOT; AIA NOT RECOMMENDED (7.1.2.8.3, our CP: absent);
    // certificatePolicies SHOULD NOT (7.1.2.8.8, our CP: absent); nocheck MUST (7.1.2.8.6).
    if (exts.has(CRL_DP_KEY)) problems.push("an OCSP responder certificate must not carry cRLDistributionPoints (BR 7.1.2.8.2)");
    if (exts.has(AIA_KEY)) problems.push("an OCSP responder certificate carries no authorityInformationAccess (BR 7.1.2.8.3)");
    if (exts.has(CERTIFICATE_POLICIES_KEY)) problems.push("an OCSP responder certificate carries no certificatePolicies (BR 7.1.2.8.8)");
    if (exts.get(OCSP_NOCHECK_KEY)?.toString("hex") !== "0500") problems.push("an OCSP responder certificate must carry id-pkix-ocsp-nocheck with the value NULL (BR 7.1.2.8.6)");
    if (ku.join() !== "digitalSignature") problems.push(`keyUsage of an OCSP responder certificate must be digitalSignature only, found ${ku.join(", ")} (BR 7.1.2.8.7)`);
  } else {
    if (policies.length === 0) problems.push("certificatePolicies must be present (BR 7.1.2.7.9, RFC 5280 4.2.1.4)");
    if (!exts.has(CRL_DP_KEY)) problems.push("cRLDistributionPoints must be present (BR 7.1.2.11.2)");
  }
  if (kind === "tls-server") {
    const reserved = policies.filter(isCabfTlsPolicy);
    if (reserved.length !== 1) problems.push(`a TLS certificate asserts exactly one CA/Browser Forum reserved policy identifier, found ${reserved.join(", ") || "none"} (BR 7.1.2.7.9)`);
    for (const k of ku) if (k === "nonRepudiation" || k === "keyAgreement" || k === "dataEncipherment") problems.push(`keyUsage ${k} must not be asserted in a TLS certificate (BR 7.1.2.7.11)`);
    if (reserved.includes(BR_OV_POLICY)) {
      const attrs = nameAttributeOids(subject);
      if (!attrs.includes("2.5.4.10") || !attrs.includes("2.5.4.6")) problems.push("an organization-validated TLS certificate names organizationName and countryName (BR 7.1.2.7.4)");
      if (!attrs.includes("2.5.4.7") && !attrs.includes("2.5.4.8")) problems.push("an organization-validated TLS certificate names localityName or stateOrProvinceName (BR 7.1.2.7.4)");
      if (attrs.includes("2.5.4.11")) problems.push("a TLS certificate must not name organizationalUnitName (BR 7.1.2.7.4)");
    }
  } else if (policies.some(isCabfTlsPolicy)) problems.push(`a ${kind} certificate must not assert a TLS policy identifier (BR 7.1.6.1)`);
  // RFC 5280 6.1.3 (d): a policy the issuing CA's certificate does not assert leaves relying
  // parties that require it an empty policy tree (the CA's start checks the profiles the same way,
  // profile.ts issuerCoverageProblems; a CA certificate without certificatePolicies is a lab's).
  const caPolicies = p.issuer.policies;
  if (caPolicies) {
    const missing = policies.filter((o) => !caPolicies.includes(o));
    if (missing.length)
      problems.push(
        `certificatePolicies ${missing.join(", ")} not asserted by the issuing CA's certificate (it asserts ${caPolicies.join(", ") || "none"}): RFC 5280 6.1.3 would leave an empty policy tree (BR 7.1.2.10.5)`,
      );
  }
  return problems;
}

const oidKey = (dotted: string): string => oid(dotted).subarray(2).toString("latin1");
const BASIC_CONSTRAINTS_KEY = oidKey(EXT.basicConstraints);
const KEY_USAGE_KEY = oidKey(EXT.keyUsage);
const CERTIFICATE_POLICIES_KEY = oidKey(EXT.certificatePolicies);
const CRL_DP_KEY = oidKey(EXT.cRLDistributionPoints);
const AIA_KEY = oidKey(EXT.authorityInfoAccess);
const OCSP_NOCHECK_KEY = oidKey(EXT.ocspNoCheck);
export { oidKey };
