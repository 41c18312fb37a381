/**
 * The CP/CPS control catalog: every control the synth gate and `lanic-ca check` evaluate, in
 * report order. One file per control family under controls/.
 */
import { AUDIT_CONTROLS } from "./controls/audit.js";
import { CEREMONY_CONTROLS } from "./controls/ceremonies.js";
import { CONTINUITY_CONTROLS } from "./controls/continuity.js";
import { CUSTODY_CONTROLS } from "./controls/custody.js";
import { DUTY_CONTROLS } from "./controls/duties.js";
import { EXPOSURE_CONTROLS } from "./controls/exposure.js";
import { HSM_CONTROLS } from "./controls/hsm.js";
import { IDENTITY_CONTROLS } from "./controls/identity.js";
import { KEY_CONTROLS } from "./controls/keys.js";
import { NETWORK_CONTROLS } from "./controls/network.js";
import { PROFILE_CONTROLS } from "./controls/profiles.js";
import { REVOCATION_CONTROLS } from "./controls/revocation.js";
import { SECRET_CONTROLS } from "./controls/secrets.js";
import { TSA_CONTROLS } from "./controls/tsa.js";
import { VALIDITY_CONTROLS } from "./controls/validity.js";
import { WORKLOAD_CONTROLS } from "./controls/workloads.js";
import type { Control } from "./types.js";

/** Problems with a per-environment exceptions file are findings of this control. */
export const EXCEPTIONS_CONTROL: Control = {
  id: "LCA-EXC-01",
  title: "Policy exceptions are current, approved and used",
  rfc3647: "1.5.4",
  references: ["NCSSR 1.3", "CP 1.5.4"],
  severity: "error",
  tiers: ["dev", "staging", "production"],
  rationale:
    "A deviation from a control is accepted only where the control allows one (never for a MUST of BR, NCSSR or MRSP in production), for one named finding, with a reason, a ticket, an expiry at most 180 days ahead and an approver who holds a role allowed to approve that control and is not the role it benefits; an expired or unused exception is an error, so none outlives its need.",
  basis: "must",
  owner: "security-officer",
  exceptions: "never",
  check: () => [], // evaluated by run.ts from policy/exceptions/<env>.yaml
};

export const CATALOG: Control[] = [
  ...IDENTITY_CONTROLS,
  ...KEY_CONTROLS,
  ...CEREMONY_CONTROLS,
  ...HSM_CONTROLS,
  ...CUSTODY_CONTROLS,
  ...VALIDITY_CONTROLS,
  ...PROFILE_CONTROLS,
  ...REVOCATION_CONTROLS,
  ...NETWORK_CONTROLS,
  ...EXPOSURE_CONTROLS,
  ...WORKLOAD_CONTROLS,
  ...DUTY_CONTROLS,
  ...AUDIT_CONTROLS,
  ...CONTINUITY_CONTROLS,
  ...TSA_CONTROLS,
  ...SECRET_CONTROLS,
  EXCEPTIONS_CONTROL,
];

/** Problems with a control's exception declaration (the catalog refuses to load with one). */
export function exceptionRuleProblems(c: Control): string[] {
  if (c.exceptions === "never") return [];
  const out: string[] = [];
  // A MUST of BR, NCSSR or MRSP is never waived where it binds: production (NCSSR 1.3, MRSP 2.1).
  if (c.basis === "must" && c.exceptions.tiers.includes("production")) out.push(`${c.id} enforces a MUST but is declared exceptable in production`);
  if (c.exceptions.approvers.includes(c.owner)) out.push(`${c.id}: its owner ${c.owner} would approve exceptions to its own work`);
  if (c.exceptions.approvers.length === 0) out.push(`${c.id}: exceptable, but nobody may approve`);
  return out;
}

const ruleProblems = CATALOG.flatMap(exceptionRuleProblems);
if (ruleProblems.length) throw new Error(`policy/catalog.ts: ${ruleProblems.join("; ")}`);

const ids = CATALOG.map((c) => c.id);
const dup = ids.find((id, i) => ids.indexOf(id) !== i);
if (dup) throw new Error(`policy/catalog.ts: control id ${dup} is defined twice`);
