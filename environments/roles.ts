/** The trusted roles of the source documents (CP/CPS 5.2.1). */
export const TRUSTED_ROLES = [
  "ca-chief-officer",
  "ca-system-administrator",
  "key-custodian",
  "ia-operator",
  "ra-operator",
  "va-operator",
  "audit-log-inspector",
  "repository-operator",
  "infrastructure-engineer",
  "system-auditor",
  "vetting-officer",
  "vetting-approver",
  "vetting-manager",
  "security-officer",
] as const;
