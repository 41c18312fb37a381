/**
 * The shape of a security review (`lanic-ca diff`): what changed between two synthesized
 * outputs, which changes are security-relevant, and who must approve them. The JSON output is
 * exactly a `DiffReport` (schema: review/schema.ts).
 */

/** Security-relevant classes of change (docs/security-review.md explains each). */
export const CHANGE_CLASSES = [
  "flow-into-protected-zone",
  "flow-new-zone-crossing",
  "flow-widened",
  "internet-exposure",
  "tier-change",
  "hsm-grant",
  "key-or-hsm",
  "trusted-role-binding",
  "signing-image",
  "workload-hardening",
  "availability",
  "audit-log",
  "revocation-schedule",
  "time-stamping",
  "policy-exception",
  "policy-control",
  "failover",
] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

/** high: two people (security officer + CA system administrator); medium: a security officer;
 *  low: the normal code review. */
export type Severity = "high" | "medium" | "low";
export const SEVERITY_ORDER: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

/** widening: more reach or less protection; narrowing: less reach or more protection;
 *  change: neither (e.g. a new image digest, a different key algorithm). */
export type Direction = "widening" | "narrowing" | "change";

export type ApprovalLevel = "two-person" | "security-officer" | "standard";

export interface RequiredApproval {
  level: ApprovalLevel;
  /** Trusted roles whose members must approve (CP/CPS 5.2.1). */
  roles: string[];
  /** Distinct approving people needed. */
  approvers: number;
  /** The label a pull request carries once that approval is given (CI gate). */
  label: string | null;
  /** One line per change that drives the level. */
  reasons: string[];
}

export interface SecurityChange {
  class: ChangeClass;
  severity: Severity;
  direction: Direction;
  environment: string;
  /** What changed, in one line (a flow, a key, a role...). When the same change applies to
   *  several subjects it is one entry: e.g. "16 signing components at sites lanic, backup". */
  subject: string;
  /** Every subject this change applies to (components, flows, schedules…), sorted; one entry
   *  per distinct change, not per subject (review/diff.ts groupChanges). */
  subjects: string[];
  /** The sites it applies to, primary first; empty for environment-wide facts. */
  sites: string[];
  summary: string;
  before?: unknown;
  after?: unknown;
  /** Construct paths / files where the change is made. */
  evidence: string[];
}

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** A non-security change, grouped by component (or by the model entity it concerns). */
export interface OtherChange {
  environment: string;
  group: string;
  entity: string;
  kind: "added" | "removed" | "changed";
  fields: FieldChange[];
}

export interface StackChange {
  stack: string;
  kind: "added" | "removed" | "changed";
  /** Terraform addresses (`type.name`) added, removed and changed. */
  added: string[];
  removed: string[];
  changed: { address: string; paths: string[] }[];
}

export interface Note {
  environment: string | null;
  message: string;
}

export interface EnvironmentDiff {
  name: string;
  status: "added" | "removed" | "changed" | "unchanged";
  security: SecurityChange[];
  other: OtherChange[];
  stacks: StackChange[];
}

export interface DiffReport {
  schemaVersion: 2;
  base: string;
  head: string;
  environments: EnvironmentDiff[];
  requiredApproval: RequiredApproval;
  summary: { high: number; medium: number; low: number; narrowing: number; other: number; stackResources: number };
  notes: Note[];
}
