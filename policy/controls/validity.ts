/** Subscriber certificate validity (CP 6.3.2; BR 6.3.2 for TLS, with its dated reductions). */
import { BR_TLS_REDUCTIONS, CP_LIMITS, TLS_REDUCTION_NOTICE_DAYS, brTlsMaxValidityDays } from "../cp-limits.js";
import type { Control, FindingInput } from "../types.js";

export const VALIDITY_CONTROLS: Control[] = [
  {
    id: "LCA-VAL-01",
    title: "Subscriber certificate validity at most one year",
    rfc3647: "6.3.2",
    references: ["CP 6.3.2", "BR 6.3.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "The source documents set one year for every certificate the CA issues; no profile and no CA may allow more.",
    basis: "cp",
    owner: "ra-operator",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing")) {
        if ((ca.maxValidityDays ?? 0) > CP_LIMITS.subscriberMaxValidityDays)
          out.push({
            key: `ca:${ca.name}`,
            path: m.environment.name,
            found: `CA '${ca.name}' maxValidityDays ${ca.maxValidityDays}`,
            required: `≤ ${CP_LIMITS.subscriberMaxValidityDays} days (CP 6.3.2)`,
            fix: `set issuingCas[${ca.name}].maxValidityDays ≤ 365`,
          });
        for (const p of ca.profiles)
          if (p.maxValidityDays > CP_LIMITS.subscriberMaxValidityDays)
            out.push({
              key: `profile:${ca.name}:${p.name}`,
              path: m.environment.name,
              found: `profile '${p.name}' of CA '${ca.name}' allows ${p.maxValidityDays} days`,
              required: `≤ ${CP_LIMITS.subscriberMaxValidityDays} days (CP 6.3.2)`,
              fix: `set profiles['${p.name}'].maxValidityDays ≤ 365`,
            });
      }
      return out;
    },
  },
  {
    id: "LCA-VAL-02",
    title: "TLS certificate validity within BR 6.3.2 (dated reductions)",
    rfc3647: "6.3.2",
    references: ["BR 6.3.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "TLS subscriber certificates may not exceed 398 days before 2026-03-15, 200 days until 2027-03-15, 100 days until 2029-03-15, and 47 days after (BR 6.3.2): the limit is the one in force today.",
    basis: "must",
    owner: "ra-operator",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const limit = brTlsMaxValidityDays(ctx.now);
      const today = ctx.now.toISOString().slice(0, 10);
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing"))
        for (const p of ca.profiles.filter((p) => p.kind === "tls-server"))
          if (p.maxValidityDays > limit)
            out.push({
              key: `profile:${ca.name}:${p.name}`,
              path: m.environment.name,
              found: `TLS profile '${p.name}' of CA '${ca.name}' allows ${p.maxValidityDays} days on ${today}`,
              required: `≤ ${limit} days for TLS certificates issued on ${today} (BR 6.3.2)`,
              fix: `set profiles['${p.name}'].maxValidityDays ≤ ${limit} (environments/cp.ts)`,
            });
      return out;
    },
  },
  {
    id: "LCA-VAL-03",
    title: "TLS profiles ready for the next BR 6.3.2 reduction",
    rfc3647: "6.3.2",
    references: ["BR 6.3.2"],
    severity: "warning",
    tiers: ["dev", "staging", "production"],
    rationale: `A warning ${TLS_REDUCTION_NOTICE_DAYS} days before BR 6.3.2 lowers the TLS maximum validity, while a TLS profile still allows more: the profile must change before that date or LCA-VAL-02 refuses the synth.`,
    basis: "cp",
    owner: "ra-operator",
    exceptions: { tiers: ["dev", "staging", "production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const today = ctx.now.toISOString().slice(0, 10);
      const next = BR_TLS_REDUCTIONS.find((d) => d > today);
      if (!next) return out;
      const days = Math.ceil((Date.parse(`${next}T00:00:00Z`) - ctx.now.getTime()) / 86_400_000);
      if (days > TLS_REDUCTION_NOTICE_DAYS) return out;
      const limit = brTlsMaxValidityDays(new Date(`${next}T00:00:00Z`));
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing"))
        for (const p of ca.profiles.filter((p) => p.kind === "tls-server"))
          if (p.maxValidityDays > limit)
            out.push({
              key: `profile:${ca.name}:${p.name}`,
              path: m.environment.name,
              found: `TLS profile '${p.name}' of CA '${ca.name}' allows ${p.maxValidityDays} days; from ${next} (in ${days} days) BR 6.3.2 allows ${limit}`,
              required: `≤ ${limit} days before ${next} (BR 6.3.2)`,
              fix: `set profiles['${p.name}'].maxValidityDays ≤ ${limit} (environments/cp.ts) before ${next}`,
            });
      return out;
    },
  },
];
