/**
 * Certificate profile content (BR 7.1.2.7, 7.1.2.8, 7.1.2.10; MRSP 5.3): the same rules the
 * signing services enforce on their configuration at start (config/cp-rules.ts, one code path),
 * reported at synth on every profile an issuing CA issues under and on the CA layout.
 */
import { caCertificateContent, profileProblems, type ProfileRule } from "@lanic-ca/pki-services/config/cp-rules";
import type { TopologyJson } from "../../constructs/model.js";
import type { Control, FindingInput } from "../types.js";

/** Findings of one rule family of cp-rules, one per profile of each issuing CA. */
function profileFindings(m: TopologyJson, rule: ProfileRule, now: Date, required: string): FindingInput[] {
  const out: FindingInput[] = [];
  for (const ca of m.environment.cas.filter((c) => c.type === "issuing"))
    for (const p of ca.profiles) {
      if (!p.content) continue;
      const problems = profileProblems(p.content, now).filter((x) => x.rule === rule);
      if (problems.length)
        out.push({
          key: `profile:${ca.name}:${p.name}`,
          path: m.environment.name,
          found: `profile '${p.name}' of CA '${ca.name}': ${problems.map((x) => x.message).join("; ")}`,
          required,
          fix: `change profiles['${p.name}'].${[...new Set(problems.map((x) => x.field))].join(", .")} (environments/cp.ts)`,
        });
    }
  return out;
}

const common: Pick<Control, "severity" | "tiers" | "basis" | "owner" | "exceptions"> = { severity: "error", tiers: ["dev", "staging", "production"], basis: "must", owner: "ra-operator", exceptions: "never" };

export const PROFILE_CONTROLS: Control[] = [
  {
    ...common,
    id: "LCA-PRF-01",
    title: "TLS profiles assert exactly one CA/Browser Forum reserved policy; OV requires O, C and L or ST",
    rfc3647: "7.1.6",
    references: ["BR 7.1.2.7.9", "BR 7.1.6.1", "BR 7.1.2.7.4"],
    rationale:
      "A TLS subscriber certificate asserts exactly one reserved policy identifier (2.23.140.1.2.x) so relying parties know how its subject was validated; an organization-validated one carries organizationName, countryName and localityName or stateOrProvinceName.",
    check: (m, ctx) => profileFindings(m, "tls-policy", ctx.now, "one of 2.23.140.1.2.1, .2, .3 or 2.23.140.1.1 in policyOids; for .2: O, C and L or ST required (BR 7.1.2.7.9, 7.1.2.7.4)"),
  },
  {
    ...common,
    id: "LCA-PRF-02",
    title: "TLS profiles: dNSName only, no e-mail SAN, no organizationalUnitName",
    rfc3647: "7.1.2",
    references: ["BR 7.1.2.7.12", "BR 7.1.2.7.4", "BR 7.1.4.4", "BR 7.1.2.7.10", "BR 7.1.2.7.11"],
    rationale:
      "A TLS certificate names hosts: a required dNSName and no rfc822Name (BR 7.1.2.7.12); organizationalUnitName MUST NOT appear (BR 7.1.2.7.4); EKU serverAuth (and clientAuth at most), key usage of the TLS table.",
    check: (m, ctx) =>
      profileFindings(m, "tls-content", ctx.now, "subjectAltNames dns required, email false; no OU or other attribute outside CN, O, C, L, ST, organizationIdentifier, serialNumber (BR 7.1.2.7.4, 7.1.2.7.12)"),
  },
  {
    ...common,
    id: "LCA-PRF-03",
    title: "OCSP signing profiles: id-pkix-ocsp-nocheck, ocspSigning only, no policies",
    rfc3647: "4.9.9",
    references: ["BR 7.1.2.8.6", "BR 7.1.2.8.5", "BR 7.1.2.8.7", "BR 7.1.2.8.8"],
    rationale:
      "A delegated OCSP responder certificate carries id-pkix-ocsp-nocheck (BR 7.1.2.8.6, RFC 6960 4.2.2.2.1) or relying parties must check the responder's own status without end; its EKU is id-kp-OCSPSigning alone and it carries no certificatePolicies.",
    check: (m, ctx) => profileFindings(m, "ocsp-signing", ctx.now, "ocspNoCheck true, extendedKeyUsage [ocspSigning], keyUsage [digitalSignature], no policyOids (BR 7.1.2.8)"),
  },
  {
    ...common,
    id: "LCA-PRF-04",
    title: "A TLS-issuing CA is restricted to TLS: EKU serverAuth, one reserved policy, no other purpose",
    rfc3647: "7.1.2",
    references: ["BR 7.1.2.10.6", "BR 7.1.2.10.5", "BR 7.1.2.6.1", "MRSP 5.3"],
    rationale:
      "A subordinate CA that issues TLS server certificates carries extendedKeyUsage serverAuth (clientAuth at most) and exactly one CA/B Forum reserved policy; it issues nothing else but its own OCSP responder's certificate, so the other purposes get their own issuing CA (ADR 0070). Its intermediate certificate is rendered from these profiles (scripts/ceremony/render.ts): a CA that mixes purposes would get no usable EKU.",
    check(m) {
      const out: FindingInput[] = [];
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing")) {
        const profiles = ca.profiles.flatMap((p) => (p.content ? [{ name: p.name, profile: p.content }] : []));
        const { problems, extendedKeyUsage } = caCertificateContent(profiles, "");
        const tls = profiles.some((p) => p.profile.kind === "tls-server");
        if (tls && !extendedKeyUsage.includes("serverAuth")) problems.push({ rule: "ca-purpose", field: "profiles", message: "its certificate would carry no serverAuth EKU (BR 7.1.2.10.6)" });
        if (problems.length)
          out.push({
            key: `ca:${ca.name}`,
            path: m.environment.name,
            found: `issuing CA '${ca.name}' (profiles ${ca.profiles.map((p) => p.name).join(", ")}): ${problems.map((p) => p.message).join("; ")}`,
            required: "a TLS-issuing CA issues tls-server profiles (and its own ocsp-signing) only; EKU serverAuth [+ clientAuth]; exactly one reserved policy (BR 7.1.2.10.5, 7.1.2.10.6, MRSP 5.3)",
            fix: `move the other profiles of '${ca.name}' to another issuing CA (environments/${m.environment.name}.ts issuingCas)`,
          });
      }
      return out;
    },
  },
];
