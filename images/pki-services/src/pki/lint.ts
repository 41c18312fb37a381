/**
 * Pre-issuance lint, deny by default (style 9): a request passes only if its key, names,
 * requested extensions and validity fit the profile. Every problem has an exact message that
 * names the profile, the value and the rule; the HTTP API returns them as they are.
 */
import { domainToASCII } from "node:url";
import type { SubjectAttribute } from "../config/schema.js";
import type { ParsedCsr } from "./csr.js";
import { children, oid, oidToString, readTlv, TAG, time } from "./der.js";
import { ATTRIBUTE_MAX_LENGTH, isPrintable, type SubjectValue } from "./names.js";
import { EXT, type CompiledProfile } from "./profile.js";

export class LintError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "LintError";
  }
}

const DAY_MS = 86_400_000;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$/;

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
  }

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
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      problems.push(`subject attribute ${type} contains control characters`);
      continue;
    }
    const chars = [...value].length;
    if (chars > ATTRIBUTE_MAX_LENGTH[type]) {
      problems.push(`subject attribute ${type} has ${chars} characters, more than ${ATTRIBUTE_MAX_LENGTH[type]} (RFC 5280 Appendix A)`);
      continue;
    }
    if (type === "C") {
      if (!/^[A-Z]{2}$/.test(value)) problems.push(`subject attribute C (${value}) must be two capital letters (ISO 3166-1)`);
      else if (profile.subject.countries.length && !profile.subject.countries.includes(value)) {
        problems.push(`subject attribute C (${value}) is not allowed by profile "${name}" (allowed countries: ${profile.subject.countries.join(", ")})`);
      }
    }
    if (type === "serialNumber" && !isPrintable(value)) problems.push(`subject attribute serialNumber must be PrintableString characters`);
    if (type === "E" && !EMAIL.test(value)) problems.push(`subject attribute E (${value}) is not an email address`);
    subject.push({ type, value });
  }
  for (const [label, n] of seen) {
    if (n > 1 && label !== "OU") problems.push(`subject attribute ${label} appears ${n} times; at most once is allowed`);
  }
  for (const r of profile.subject.required) {
    if (!seen.has(r)) problems.push(`subject attribute ${r} is required by profile "${name}"`);
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
    dns.push(lower);
  }
  for (const m of csr.san.email) {
    if (!profile.subjectAltNames.email) {
      problems.push(`subjectAltName rfc822Name ${m} is not allowed by profile "${name}"`);
      continue;
    }
    if (!EMAIL.test(m)) {
      problems.push(`subjectAltName rfc822Name ${m} is not an email address`);
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
  const [ver, serial, sigAlg, issuer, validity, , , exts] = f;
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
    for (const e of children(tbs, readTlv(tbs, exts.contentStart, exts.end))) {
      const o = readTlv(tbs, e.contentStart, e.end);
      const id = tbs.toString("latin1", o.contentStart, o.end); // OID contents as a map key
      if (ids.has(id)) problems.push(`extension ${oidToString(Buffer.from(id, "latin1"))} appears twice (RFC 5280 4.2)`);
      ids.add(id);
      if (!p.allowedExtensionKeys.has(id)) problems.push(`extension ${oidToString(Buffer.from(id, "latin1"))} is not in profile "${p.name}"`);
    }
    if (!ids.has(BASIC_CONSTRAINTS_KEY) || !ids.has(KEY_USAGE_KEY)) problems.push("basicConstraints and keyUsage must be present");
  }
  if (problems.length) throw new LintError(problems);
}

const oidKey = (dotted: string): string => oid(dotted).subarray(2).toString("latin1");
const BASIC_CONSTRAINTS_KEY = oidKey(EXT.basicConstraints);
const KEY_USAGE_KEY = oidKey(EXT.keyUsage);
export { oidKey };

