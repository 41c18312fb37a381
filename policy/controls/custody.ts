/** Multi-person control over CA keys (BR 5.2.2, 6.2.2). */
import { CP_LIMITS } from "../cp-limits.js";
import type { Control, FindingInput } from "../types.js";

export const CUSTODY_CONTROLS: Control[] = [
  {
    id: "LCA-MPC-01",
    title: "Root key custodian quorum M ≥ 2 of N ≥ M+1",
    rfc3647: "6.2.2",
    references: ["BR 5.2.2", "BR 6.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rootOfTrust: ["offline"],
    rationale: "No single person can activate, back up or restore the root key, and the loss of one custodian does not lose the key (BR 5.2.2 dual control).",
    basis: "must",
    owner: "key-custodian",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const path = m.components.find((c) => c.kind === "offline-root")?.path ?? m.environment.name;
      for (const ca of m.environment.cas.filter((c) => c.type === "root")) {
        const q = ca.custodians;
        if (!q || q.quorum < CP_LIMITS.custodianMinQuorum || q.total < q.quorum + 1)
          out.push({
            key: `ca:${ca.name}`,
            path,
            found: q ? `quorum ${q.quorum} of ${q.total} custodians` : "no custodians",
            required: `quorum M ≥ ${CP_LIMITS.custodianMinQuorum} of N ≥ M + 1 custodians`,
            fix: "raise rootOfTrust.custodians.quorum to ≥ 2 and list at least one more custodian than the quorum",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-MPC-02",
    title: "Key backup and restore need two roles",
    rfc3647: "5.2.2",
    references: ["BR 5.2.2", "BR 6.2.4", "NCSSR 2.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Key custodians hold the backup media and CA system administrators the HSM PINs; backup and restore need both, so the two roles must be filled by different groups.",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const custodian = m.roles.find((r) => r.role === "key-custodian");
      const admin = m.roles.find((r) => r.role === "ca-system-administrator");
      const path = m.environment.name;
      if (!custodian || custodian.groups.length === 0)
        out.push({
          key: "role:key-custodian",
          path,
          found: "no key-custodian group",
          required: "both key-custodian and ca-system-administrator roles assigned",
          fix: "assign roles['key-custodian'] in environments/<env>.ts",
        });
      if (!admin || admin.groups.length === 0)
        out.push({
          key: "role:ca-system-administrator",
          path,
          found: "no ca-system-administrator group",
          required: "both key-custodian and ca-system-administrator roles assigned",
          fix: "assign roles['ca-system-administrator'] in environments/<env>.ts",
        });
      if (custodian && admin)
        for (const g of custodian.groups.filter((g) => admin.groups.includes(g)))
          out.push({
            key: `group:${g}`,
            path,
            found: `group '${g}' is both key-custodian and ca-system-administrator`,
            required: "backup media and HSM PINs held by different groups (dual control)",
            fix: "give each role its own group",
          });
      return out;
    },
  },
];
