/**
 * What the CP/CPS lets a certificate profile, an issuing CA's certificate and a service
 * configuration say, as pure functions over the configuration (no zod, no HSM: the synth side
 * thread loads this too).
 *
 * One code path for two gates: the signing services refuse to start with a configuration that
 * breaks a rule (IssuingCaServiceConfig's refinement, config/schema.ts), and synth's policy
 * controls LCA-PRF-* (policy/controls/profiles.ts) report the same problems on the environment.
 * The pre-issuance lint (pki/lint.ts) checks the bytes of every certificate again.
 */
import type { ExtendedKeyUsage, KeyAlgorithm, KeyUsage, Profile, ProfileKind } from "./schema.js";

/** BR 7.1.6.1 reserved policy identifiers for TLS subscriber certificates. */
export const CABF_TLS_POLICIES: Readonly<Record<string, string>> = {
  "2.23.140.1.2.1": "domain-validated",
  "2.23.140.1.2.2": "organization-validated",
  "2.23.140.1.2.3": "individual-validated",
  "2.23.140.1.1": "extended-validation",
};
export const BR_OV_POLICY = "2.23.140.1.2.2";
/** S/MIME BR 7.1.6.1: the reserved arc of S/MIME policy identifiers. */
export const CABF_SMIME_ARC = "2.23.140.1.5.";
export const isCabfTlsPolicy = (oid: string): boolean => Object.hasOwn(CABF_TLS_POLICIES, oid);

/** CP 6.3.2: no subscriber certificate is valid more than one year (the source documents). */
export const SUBSCRIBER_MAX_VALIDITY_DAYS = 365;

/** BR 6.3.2: maximum validity of a TLS subscriber certificate issued on `date`. */
export function brTlsMaxValidityDays(date: Date): number {
  const t = date.toISOString().slice(0, 10);
  if (t < "2026-03-15") return 398;
  if (t < "2027-03-15") return 200;
  if (t < "2029-03-15") return 100;
  return 47;
}

export type KeyFamily = "RSA" | "EC";
export const keyFamily = (a: KeyAlgorithm): KeyFamily => (a.startsWith("RSA") ? "RSA" : "EC");

/** Key usages an ECDSA subject key must never carry (RFC 8813 3: an ECDSA key signs; it does
 *  not encipher keys or data. BR 7.1.2.7.11, ECC table). */
export const EC_FORBIDDEN_KEY_USAGES: readonly KeyUsage[] = ["keyEncipherment", "dataEncipherment"];

/**
 * The keyUsage a certificate under `profile` gets for a subject key of `family`: the profile's
 * list, without the encipherment bits for an ECDSA key (RFC 8813 3, BR 7.1.2.7.11). The profile
 * states what RSA keys get; key usage follows the key, it is not a constant per profile.
 */
export function keyUsageFor(profile: Profile, family: KeyFamily): KeyUsage[] {
  return family === "EC" ? profile.keyUsage.filter((k) => !EC_FORBIDDEN_KEY_USAGES.includes(k)) : [...profile.keyUsage];
}

/** One broken rule. `rule` groups problems into the policy control that reports them. */
export interface RuleProblem {
  readonly rule: ProfileRule;
  /** Path inside the profile (or the configuration), e.g. "policyOids". */
  readonly field: string;
  readonly message: string;
}

/** Rule families, one policy control each (policy/controls/profiles.ts). */
export type ProfileRule = "tls-policy" | "tls-content" | "ocsp-signing" | "key-usage" | "smime" | "subscriber" | "validity" | "ca-purpose";

const TLS_SUBJECT_ALLOWED = new Set(["CN", "O", "C", "L", "ST", "organizationIdentifier", "serialNumber"]);
const TLS_KEY_USAGES: readonly KeyUsage[] = ["digitalSignature", "keyEncipherment"]; // BR 7.1.2.7.11 (RSA table, without the NOT RECOMMENDED bits)
const TLS_EKUS: readonly ExtendedKeyUsage[] = ["serverAuth", "clientAuth"]; // BR 7.1.2.7.10

/** Every rule a profile breaks. `now` decides the BR 6.3.2 TLS limit in force. */
export function profileProblems(profile: Profile, now: Date = new Date()): RuleProblem[] {
  const out: RuleProblem[] = [];
  const add = (rule: ProfileRule, field: string, message: string) => out.push({ rule, field, message });
  const subjectAllowed = [...profile.subject.required, ...profile.subject.optional];
  const ecAllowed = profile.allowedKeyAlgorithms.some((a) => keyFamily(a) === "EC");
  const ocsp = profile.kind === "ocsp-signing";

  // Validity (CP 6.3.2, BR 6.3.2).
  if (profile.maxValidityDays > SUBSCRIBER_MAX_VALIDITY_DAYS)
    add("validity", "maxValidityDays", `${profile.maxValidityDays} days is more than the ${SUBSCRIBER_MAX_VALIDITY_DAYS} days the CP allows any certificate it issues (CP 6.3.2)`);
  if (profile.kind === "tls-server" && profile.maxValidityDays > brTlsMaxValidityDays(now))
    add("validity", "maxValidityDays", `${profile.maxValidityDays} days is more than the ${brTlsMaxValidityDays(now)} days BR 6.3.2 allows a TLS certificate issued on ${now.toISOString().slice(0, 10)}`);

  // Key usage by key type (RFC 8813 3, BR 7.1.2.7.11).
  if (ecAllowed && keyUsageFor(profile, "EC").length === 0)
    add("key-usage", "keyUsage", `${profile.keyUsage.join(", ")} leaves nothing for an ECDSA key (keyEncipherment and dataEncipherment are RSA-only, RFC 8813 3): add digitalSignature or allow RSA keys only`);

  if (profile.kind === "tls-server") {
    // BR 7.1.2.7.9, 7.1.6.1: exactly one reserved policy identifier.
    const reserved = profile.policyOids.filter(isCabfTlsPolicy);
    if (reserved.length === 0)
      add(
        "tls-policy",
        "policyOids",
        `a TLS profile must assert one CA/Browser Forum reserved policy identifier (${Object.keys(CABF_TLS_POLICIES).join(", ")}); found ${profile.policyOids.join(", ") || "none"} (BR 7.1.2.7.9, 7.1.6.1)`,
      );
    else if (reserved.length > 1) add("tls-policy", "policyOids", `a TLS profile must assert exactly one CA/Browser Forum reserved policy identifier, found ${reserved.join(", ")} (BR 7.1.2.7.9)`);
    if (reserved.includes(BR_OV_POLICY)) {
      // BR 7.1.2.7.4: organizationName and countryName MUST; localityName or stateOrProvinceName MUST.
      for (const a of ["O", "C"] as const) if (!profile.subject.required.includes(a)) add("tls-policy", "subject.required", `an organization-validated TLS profile (${BR_OV_POLICY}) must require ${a} (BR 7.1.2.7.4)`);
      if (!profile.subject.required.includes("L") && !profile.subject.required.includes("ST"))
        add("tls-policy", "subject.required", `an organization-validated TLS profile (${BR_OV_POLICY}) must require localityName (L) or stateOrProvinceName (ST) (BR 7.1.2.7.4)`);
    }
    // BR 7.1.2.7.4: organizationalUnitName MUST NOT; 7.1.4.4: other attributes NOT RECOMMENDED (our CP: refused).
    for (const a of subjectAllowed)
      if (!TLS_SUBJECT_ALLOWED.has(a)) add("tls-content", "subject", `a TLS profile must not allow subject attribute ${a} (BR ${a === "OU" ? "7.1.2.7.4: organizationalUnitName MUST NOT" : "7.1.4.4"})`);
    // BR 7.1.2.7.12: dNSName required, rfc822Name not permitted.
    if (profile.subjectAltNames.email) add("tls-content", "subjectAltNames.email", "a TLS profile must not allow rfc822Name subjectAltNames (BR 7.1.2.7.12)");
    if (!profile.subjectAltNames.dns || !profile.subjectAltNames.required) add("tls-content", "subjectAltNames", "a TLS profile must require a dNSName subjectAltName (BR 7.1.2.7.12)");
    for (const e of profile.extendedKeyUsage) if (!TLS_EKUS.includes(e)) add("tls-content", "extendedKeyUsage", `a TLS profile must not assert ${e}; allowed: serverAuth, clientAuth (BR 7.1.2.7.10)`);
    if (!profile.extendedKeyUsage.includes("serverAuth")) add("tls-content", "extendedKeyUsage", "a TLS profile must assert serverAuth (BR 7.1.2.7.10)");
    for (const k of profile.keyUsage) if (!TLS_KEY_USAGES.includes(k)) add("tls-content", "keyUsage", `a TLS profile must not assert ${k} (BR 7.1.2.7.11)`);
    if (ecAllowed && !profile.keyUsage.includes("digitalSignature")) add("tls-content", "keyUsage", "a TLS profile allowing ECDSA keys must assert digitalSignature (BR 7.1.2.7.11)");
  }

  if (ocsp) {
    // BR 7.1.2.8: the delegated responder certificate.
    if (!profile.ocspNoCheck) add("ocsp-signing", "ocspNoCheck", "an OCSP signing profile must add id-pkix-ocsp-nocheck (BR 7.1.2.8.6, RFC 6960 4.2.2.2.1)");
    if (profile.extendedKeyUsage.length !== 1 || profile.extendedKeyUsage[0] !== "ocspSigning")
      add("ocsp-signing", "extendedKeyUsage", `an OCSP signing profile asserts exactly ocspSigning, found ${profile.extendedKeyUsage.join(", ")} (BR 7.1.2.8.5)`);
    if (profile.keyUsage.length !== 1 || profile.keyUsage[0] !== "digitalSignature")
      add("ocsp-signing", "keyUsage", `an OCSP signing profile asserts exactly digitalSignature, found ${profile.keyUsage.join(", ")} (BR 7.1.2.8.7)`);
    if (profile.policyOids.length) add("ocsp-signing", "policyOids", `an OCSP signing profile carries no certificatePolicies (BR 7.1.2.8.8: SHOULD NOT; our CP: none), found ${profile.policyOids.join(", ")}`);
    if (profile.subjectAltNames.dns || profile.subjectAltNames.email) add("ocsp-signing", "subjectAltNames", "an OCSP signing profile allows no subjectAltName (BR 7.1.2.8.2)");
  } else {
    if (profile.ocspNoCheck) add("subscriber", "ocspNoCheck", `id-pkix-ocsp-nocheck is only for OCSP signing profiles (RFC 6960 4.2.2.2.1); this is a ${profile.kind} profile`);
    if (profile.extendedKeyUsage.includes("ocspSigning")) add("subscriber", "extendedKeyUsage", `ocspSigning is only for OCSP signing profiles (BR 7.1.2.7.10, RFC 6960 4.2.2.2); this is a ${profile.kind} profile`);
    if (profile.policyOids.length === 0) add("subscriber", "policyOids", "a subscriber profile must assert at least one certificate policy of the CP (RFC 5280 4.2.1.4, BR 7.1.2.7.9, CP 7.1.6)");
    if (profile.kind !== "tls-server") {
      const tlsOids = profile.policyOids.filter(isCabfTlsPolicy);
      if (tlsOids.length) add("subscriber", "policyOids", `${tlsOids.join(", ")} is a TLS policy identifier; a ${profile.kind} profile must not assert it (BR 7.1.6.1)`);
      if (profile.extendedKeyUsage.includes("serverAuth")) add("subscriber", "extendedKeyUsage", `serverAuth is only for TLS profiles (BR 7.1.2.7.10); this is a ${profile.kind} profile`);
    }
  }

  if (profile.kind === "smime") {
    // S/MIME BR 7.1.2.3 (strict): emailProtection, a mailbox subjectAltName, no dNSName.
    if (!profile.extendedKeyUsage.includes("emailProtection")) add("smime", "extendedKeyUsage", "an S/MIME profile must assert emailProtection (S/MIME BR 7.1.2.3)");
    if (!profile.subjectAltNames.email || !profile.subjectAltNames.required) add("smime", "subjectAltNames", "an S/MIME profile must require an rfc822Name subjectAltName (S/MIME BR 7.1.2.3)");
    if (profile.subjectAltNames.dns) add("smime", "subjectAltNames.dns", "an S/MIME profile must not allow dNSName subjectAltNames (S/MIME BR 7.1.2.3)");
    if (!profile.policyOids.some((o) => o.startsWith(CABF_SMIME_ARC))) add("smime", "policyOids", `an S/MIME profile must assert a CA/Browser Forum S/MIME policy identifier (${CABF_SMIME_ARC}*) (S/MIME BR 7.1.6.1)`);
  }
  return out;
}

/** What an issuing CA's certificate must say so that it covers, and is restricted to, what it
 *  issues (BR 7.1.2.6.1, 7.1.2.10.5, 7.1.2.10.6, 7.1.2.3.3; MRSP 5.3). */
export interface CaCertificateContent {
  /** extendedKeyUsage of the CA certificate, by name. */
  readonly extendedKeyUsage: ExtendedKeyUsage[];
  /** certificatePolicies of the CA certificate: every policy its certificates assert, so that
   *  RFC 5280 6.1 path validation with an explicit policy keeps a non-empty policy tree. */
  readonly policies: string[];
  readonly problems: RuleProblem[];
}

/**
 * The EKU and policies of an issuing CA certificate, from the profiles it issues under:
 * - a CA that issues a TLS profile is a TLS subordinate CA (BR 7.1.2.6.1): it issues TLS server
 *   certificates (and its own OCSP responder's) only; EKU serverAuth (clientAuth when a TLS
 *   profile has it; id-kp-OCSPSigning MUST NOT, BR 7.1.2.10.6); exactly one reserved policy.
 * - any other CA (BR 7.1.2.3.3: serverAuth MUST NOT) gets the union of its profiles' EKUs,
 *   including id-kp-OCSPSigning when it certifies its own OCSP responder (GnuTLS and other strict
 *   verifiers require the issuer's EKU to cover its subject's).
 * Policies: the CP's own OID, then every policy of the profiles, in order.
 */
export function caCertificateContent(profiles: readonly { readonly name: string; readonly profile: Profile }[], cpPolicyOid: string): CaCertificateContent {
  const problems: RuleProblem[] = [];
  const kinds = new Set<ProfileKind>(profiles.map((p) => p.profile.kind));
  const tls = kinds.has("tls-server");
  const policies = [cpPolicyOid];
  for (const { profile } of profiles) for (const o of profile.policyOids) if (!policies.includes(o)) policies.push(o);
  const ekus = new Set<ExtendedKeyUsage>();
  if (tls) {
    for (const { name, profile } of profiles) {
      if (profile.kind !== "tls-server" && profile.kind !== "ocsp-signing")
        problems.push({
          rule: "ca-purpose",
          field: "profiles",
          message: `a CA issuing TLS certificates is restricted to them (EKU serverAuth, BR 7.1.2.6.1, 7.1.2.10.6; MRSP 5.3): it must not also issue '${name}' (${profile.kind}); give that profile its own issuing CA`,
        });
      if (profile.kind === "tls-server") for (const e of profile.extendedKeyUsage) if (e === "serverAuth" || e === "clientAuth") ekus.add(e);
    }
    const reserved = [...new Set(policies.filter(isCabfTlsPolicy))];
    if (reserved.length !== 1)
      problems.push({
        rule: "ca-purpose",
        field: "profiles",
        message: `a TLS subordinate CA certificate asserts exactly one CA/Browser Forum reserved policy identifier; its TLS profiles assert ${reserved.join(", ") || "none"} (BR 7.1.2.10.5)`,
      });
    // BR 7.1.2.10.5 RECOMMENDS the reserved identifier first.
    policies.sort((a, b) => Number(isCabfTlsPolicy(b)) - Number(isCabfTlsPolicy(a)));
  } else {
    for (const { profile } of profiles) for (const e of profile.extendedKeyUsage) ekus.add(e);
  }
  const order: ExtendedKeyUsage[] = ["serverAuth", "clientAuth", "emailProtection", "documentSigning", "timeStamping", "ocspSigning"];
  return { extendedKeyUsage: order.filter((e) => ekus.has(e)), policies, problems };
}

/** URL schemes a certificate may point to (BR 7.1.2.11.2 CRL, 7.1.2.7.7 / 7.1.2.10.3 AIA: HTTP
 *  URLs; RFC 5280 8: no TLS loop, no local file, no script). */
export function httpUrlProblem(url: string, what: string, section: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${what} '${url}' is not a URL (${section})`;
  }
  if (u.protocol !== "http:") return `${what} '${url}' must be an http:// URL, not ${u.protocol} (${section})`;
  if (u.username || u.password) return `${what} '${url}' must not carry credentials (${section})`;
  return undefined;
}

/** The limits a signing service enforces on its own configuration at start, whatever the file
 *  says (a hand-edited ConfigMap cannot widen the CP). Paths are the configuration's fields. */
export function serviceConfigProblems(
  config: { readonly urls: { readonly caIssuers: string; readonly crl: string; readonly ocsp?: string }; readonly profiles: Readonly<Record<string, Profile>> },
  now: Date = new Date(),
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const url = (key: "caIssuers" | "crl" | "ocsp", what: string, section: string) => {
    const v = config.urls[key];
    const p = v === undefined ? undefined : httpUrlProblem(v, what, section);
    if (p) out.push({ path: ["urls", key], message: p });
  };
  url("caIssuers", "AIA caIssuers", "BR 7.1.2.7.7");
  url("crl", "CRL distribution point", "BR 7.1.2.11.2");
  url("ocsp", "AIA OCSP", "BR 7.1.2.7.7, RFC 6960 A.1");
  for (const [name, profile] of Object.entries(config.profiles)) for (const p of profileProblems(profile, now)) out.push({ path: ["profiles", name, ...p.field.split(".")], message: p.message });
  return out;
}
