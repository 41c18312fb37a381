/**
 * The vocabulary of the CP/CPS policy: a control, what its check returns, and the result of
 * evaluating the catalog against one environment.
 */
import type { Tier, TrustedRole } from "../environments/schema.js";
import type { EnvironmentFact, TopologyJson } from "../constructs/model.js";
import type { SynthesizedResources } from "./resources.js";

export type Severity = "error" | "warning";

/** What a check reports, before the id is made stable and exceptions are applied. */
export interface FindingInput {
  /** A short key, unique within the control for this environment (component id, key label…):
   *  the finding id is `<control id>:<key>`, stable across synths. */
  key: string;
  /** Construct path of the offending construct (evidence; SARIF location). */
  path: string;
  found: string;
  required: string;
  fix: string;
}

export interface Finding extends FindingInput {
  controlId: string;
  /** Stable finding id, `<control id>:<key>`: what an exception names. */
  id: string;
  severity: Severity;
}

export interface CheckContext {
  /** "Now" for date-dependent limits (BR 6.3.2's dated reductions, exception expiry). */
  readonly now: Date;
  /** The synthesized Terraform JSON of every stack of the environment. */
  readonly resources: SynthesizedResources;
}

export interface Control {
  /** Stable id, `LCA-<FAMILY>-<NN>`. */
  id: string;
  title: string;
  /** RFC 3647 section the control implements, e.g. "6.1.5". */
  rfc3647: string;
  /** Sections of the reference texts (BR 2.2.6, NCSSR 2.0.5, MRSP 3.1) or "CP" (our own policy). */
  references: string[];
  severity: Severity;
  tiers: Tier[];
  /** Only some controls apply to an externally rooted CA (the pilot): offline-root ones do not. */
  rootOfTrust?: EnvironmentFact["rootOfTrust"][];
  /** Only charged when the environment runs this optional service (the TSA). */
  requires?: "tsa";
  rationale: string;
  /** What the control enforces: a MUST / SHALL of BR, NCSSR or MRSP or of the source documents
   *  ("must"), or a choice our CP makes beyond them ("cp"). */
  basis: "must" | "cp";
  /** The trusted role whose work the control checks: the one an exception would benefit, so it
   *  may never approve one (NCSSR 2.1 separation of duties). */
  owner: TrustedRole;
  /** Whether, in which tiers and by whom a finding may be excepted; "never" for none. A "must"
   *  control is never exceptable in production (catalog.ts refuses such a declaration). */
  exceptions: { tiers: Tier[]; approvers: TrustedRole[] } | "never";
  check(model: TopologyJson, ctx: CheckContext): FindingInput[];
}

export type ControlStatus = "pass" | "fail" | "excepted" | "not-applicable";

export interface ExceptionRecord {
  control: string;
  finding: string;
  reason: string;
  approvedBy: string;
  ticket: string;
  expires: string;
  /** Finding ids it covers in this run. */
  covers: string[];
}

export interface ControlResult {
  control: Control;
  status: ControlStatus;
  /** Why not applicable (tier, external root). */
  note?: string;
  findings: Finding[];
  /** Findings covered by an exception (still reported). */
  excepted: Finding[];
  /** Construct paths and output files that show how the control is met (traceability). */
  evidence: string[];
}

export interface PolicyResult {
  environment: string;
  tier: Tier;
  rootOfTrust: EnvironmentFact["rootOfTrust"];
  evaluatedAt: string;
  results: ControlResult[];
  exceptions: ExceptionRecord[];
  /** Problems with the exceptions file itself (expired, unmatched, invalid): errors. */
  exceptionErrors: Finding[];
  /** Output files of the environment (evidence in the traceability matrix). */
  outputs: string[];
  counts: { controls: number; passed: number; failed: number; excepted: number; notApplicable: number; errors: number; warnings: number };
}
