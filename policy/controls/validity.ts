/** Subscriber certificate validity (CP 6.3.2; BR 6.3.2 for TLS, with its dated reductions). */
import { CP_LIMITS, brTlsMaxValidityDays } from "../cp-limits.js";
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
    check(m) {
      const out: FindingInput[] = [];
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing")) {
        if ((ca.maxValidityDays ?? 0) > CP_LIMITS.subscriberMaxValidityDays)
          out.push({ key: `ca:${ca.name}`, path: m.environment.name, found: `CA '${ca.name}' maxValidityDays ${ca.maxValidityDays}`, required: `≤ ${CP_LIMITS.subscriberMaxValidityDays} days (CP 6.3.2)`, fix: `set issuingCas[${ca.name}].maxValidityDays ≤ 365` });
        for (const p of ca.profiles)
          if (p.maxValidityDays > CP_LIMITS.subscriberMaxValidityDays)
            out.push({ key: `profile:${ca.name}:${p.name}`, path: m.environment.name, found: `profile '${p.name}' of CA '${ca.name}' allows ${p.maxValidityDays} days`, required: `≤ ${CP_LIMITS.subscriberMaxValidityDays} days (CP 6.3.2)`, fix: `set profiles['${p.name}'].maxValidityDays ≤ 365` });
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
    check(m, ctx) {
      const out: FindingInput[] = [];
      const limit = brTlsMaxValidityDays(ctx.now);
      const today = ctx.now.toISOString().slice(0, 10);
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing"))
        for (const p of ca.profiles.filter((p) => p.kind === "tls-server"))
          if (p.maxValidityDays > limit)
            out.push({ key: `profile:${ca.name}:${p.name}`, path: m.environment.name, found: `TLS profile '${p.name}' of CA '${ca.name}' allows ${p.maxValidityDays} days on ${today}`, required: `≤ ${limit} days for TLS certificates issued on ${today} (BR 6.3.2)`, fix: `set profiles['${p.name}'].maxValidityDays ≤ ${limit} (environments/cp.ts)` });
      return out;
    },
  },
];
