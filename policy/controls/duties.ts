/** Separation of duties between trusted roles (source documents; NCSSR 2.1). */
import type { TrustedRole } from "../../environments/schema.js";
import { TRUSTED_ROLES } from "../../environments/roles.js";
import type { Control, FindingInput } from "../types.js";

const READ_ONLY = new Set(["get", "list", "watch"]);

/** Pairs of roles the source documents keep apart (a group may not hold both). */
export const INCOMPATIBLE_ROLES: [TrustedRole, TrustedRole, string][] = [
  ["ra-operator", "ia-operator", "the RA approves what the IA issues"],
  ["vetting-officer", "vetting-approver", "an application is checked and approved by two people"],
  ["vetting-approver", "vetting-manager", "the manager checks the approvers"],
  ["vetting-officer", "vetting-manager", "the manager checks the vetting"],
  // The IA operator activates CA keys; the custodians hold their backups and open the HSM for key
  // generation and restore: one person with both could copy and use a CA key alone (NCSSR 2.1.1,
  // BR 5.2.2; the source documents list them as separate roles).
  ["ia-operator", "key-custodian", "activating a CA key and holding its backup need two people"],
  // The security officer reviews and approves what the infrastructure engineer installs (NCSSR
  // 2.1: the persons who review security configuration are not those who implement it).
  ["security-officer", "infrastructure-engineer", "the security officer reviews what the engineer installs"],
  ...(["ca-system-administrator", "ia-operator", "ra-operator", "va-operator", "repository-operator", "infrastructure-engineer", "key-custodian"] as TrustedRole[]).map(
    (r) => ["system-auditor", r, "the auditor checks operation against the CP/CPS"] as [TrustedRole, TrustedRole, string],
  ),
];

export const DUTY_CONTROLS: Control[] = [
  {
    id: "LCA-SOD-01",
    title: "Separation of duties between trusted roles",
    rfc3647: "5.2.4",
    references: ["NCSSR 2.1", "NCSSR 2.1.1", "BR 5.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "No group holds two roles the source documents keep apart (RA and IA operator, vetting officer/approver/manager, auditor and operators), and the audit log inspector holds no role that can change what it inspects (NCSSR 2.1 separation of duties).",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const groupsOf = new Map(m.roles.map((r) => [r.role, new Set(r.groups)]));
      for (const [a, b, why] of INCOMPATIBLE_ROLES)
        for (const g of groupsOf.get(a) ?? [])
          if (groupsOf.get(b)?.has(g))
            out.push({
              key: `group:${g}:${a}+${b}`,
              path: m.environment.name,
              found: `group '${g}' holds both ${a} and ${b}`,
              required: `${a} and ${b} held by different people (${why})`,
              fix: `give ${a} and ${b} separate groups in environments/<env>.ts roles`,
            });
      // The inspector must not be able to write what it inspects: any role with a write verb.
      const inspector = groupsOf.get("audit-log-inspector") ?? new Set<string>();
      for (const r of m.roles) {
        const writes = r.bindings.some((b) => b.rules.some((rule) => rule.verbs.some((v) => !READ_ONLY.has(v))));
        if (r.role === "audit-log-inspector") {
          if (writes)
            out.push({
              key: "role:audit-log-inspector:writes",
              path: m.environment.name,
              found: "audit-log-inspector has write verbs",
              required: "the audit log inspector is read-only",
              fix: "restrict ROLE_POWERS['audit-log-inspector'] to get/list/watch",
            });
          continue;
        }
        if (!writes) continue;
        for (const g of r.groups)
          if (inspector.has(g))
            out.push({
              key: `group:${g}:audit-log-inspector+${r.role}`,
              path: m.environment.name,
              found: `group '${g}' is audit-log-inspector and ${r.role}, which can write in the cluster`,
              required: "the audit log inspector cannot change what it inspects",
              fix: "give audit-log-inspector its own group",
            });
      }
      return out;
    },
  },
  {
    id: "LCA-SOD-02",
    title: "Every trusted role has a holder",
    rfc3647: "5.2.1",
    references: ["NCSSR 2.1", "BR 5.2.1", "BR 5.4.1"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale:
      "Each duty of the source documents is someone's (CP/CPS 5.2.1): a role without a group is a duty nobody performs — no audit log inspector means nobody reviews the IA and RA logs (BR 5.4.1, NCSSR 2.1), no vetting manager means nobody checks the approvals.",
    basis: "must",
    owner: "ca-chief-officer",
    exceptions: { tiers: ["staging"], approvers: ["security-officer", "system-auditor"] },
    check(m) {
      const held = new Set(m.roles.filter((r) => r.groups.length > 0).map((r) => r.role));
      return TRUSTED_ROLES.filter((r) => !held.has(r)).map((r) => ({
        key: `role:${r}`,
        path: m.environment.name,
        found: `no group holds the ${r} role`,
        required: "every trusted role of CP/CPS 5.2.1 assigned to an identity-provider group",
        fix: `appoint the ${r} and add their group to roles['${r}'] in environments/${m.environment.name}.ts`,
      }));
    },
  },
];
