/** Evaluates the catalog against one topology and applies the environment's exceptions. */
import type { TopologyJson } from "../constructs/model.js";
import { CATALOG, EXCEPTIONS_CONTROL } from "./catalog.js";
import { CP_LIMITS } from "./cp-limits.js";
import type { PolicyException } from "./exceptions.js";
import type { SynthesizedResources } from "./resources.js";
import type { CheckContext, Control, ControlResult, ExceptionRecord, Finding, PolicyResult } from "./types.js";

export interface EvaluateOptions {
  readonly resources: SynthesizedResources;
  /** @default new Date() */
  readonly now?: Date;
  readonly exceptions?: PolicyException[];
  /** Where the exceptions came from (shown in findings about them). */
  readonly exceptionsSource?: string;
  /** Output files of the environment (evidence). @default [] */
  readonly outputs?: string[];
  /** @default CATALOG */
  readonly catalog?: Control[];
}

const DAY = 86_400_000;

function applies(c: Control, m: TopologyJson): string | undefined {
  if (!c.tiers.includes(m.environment.tier)) return `not charged in tier ${m.environment.tier} (applies to ${c.tiers.join(", ")})`;
  if (c.rootOfTrust && !c.rootOfTrust.includes(m.environment.rootOfTrust)) return `not charged: the root of trust is ${m.environment.rootOfTrust}`;
  if (c.requires === "tsa" && !m.environment.tsa) return "not charged: the environment runs no time-stamping authority";
  return undefined;
}

/** Evidence for the traceability matrix: the construct paths the control looked at. */
function evidenceFor(c: Control, m: TopologyJson): string[] {
  const fam = c.id.split("-")[1];
  const paths = (xs: { path: string }[]) => [...new Set(xs.map((x) => x.path))];
  switch (fam) {
    case "KEY":
    case "HSM":
    case "MPC":
      return paths([...m.hsms, ...m.components.filter((x) => x.kind === "offline-root")]);
    case "CRL":
    case "OCSP":
      return paths(m.schedules.filter((s) => s.kind !== "audit-integrity"));
    case "NET":
      return paths(m.zones);
    case "WKL":
      return paths(m.components.filter((x) => x.runsAs !== "none"));
    case "AUD":
      return paths([...m.components.filter((x) => x.kind === "audit-collector"), ...m.schedules.filter((s) => s.kind === "audit-integrity")]);
    case "TSA":
      return paths(m.components.filter((x) => x.kind === "tsa"));
    case "CER":
      return paths(m.components.filter((x) => x.kind === "offline-root"));
    case "URL":
      return paths(m.components.filter((x) => x.kind === "repository" || x.kind === "ocsp-responder"));
    case "SOD":
      return [...new Set(m.roles.flatMap((r) => r.bindings.map((b) => `${m.environment.name}/${m.environment.name}-${b.site}/trusted-roles`)))];
    case "CLU":
    case "TIER":
      return paths(m.zones.filter((z) => z.zone === "management"));
    case "BCP":
    case "RES":
      return paths(m.zones.filter((z) => z.zone === "database"));
    default:
      return [];
  }
}

export function evaluate(model: TopologyJson, options: EvaluateOptions): PolicyResult {
  const now = options.now ?? new Date();
  const ctx: CheckContext = { now, resources: options.resources };
  const catalog = options.catalog ?? CATALOG;
  const results: ControlResult[] = [];
  for (const control of catalog) {
    if (control === EXCEPTIONS_CONTROL) continue;
    const note = applies(control, model);
    const findings: Finding[] = note ? [] : control.check(model, ctx).map((f) => ({ ...f, controlId: control.id, id: `${control.id}:${f.key}`, severity: control.severity }));
    // The same key twice is one finding (e.g. the same flow seen twice).
    const unique = [...new Map(findings.map((f) => [f.id, f])).values()];
    results.push({
      control,
      status: note ? "not-applicable" : unique.length ? "fail" : "pass",
      note,
      findings: unique,
      excepted: [],
      evidence: [...evidenceFor(control, model), ...(options.outputs ?? [])],
    });
  }

  // Exceptions: each must be current (≤ 180 days ahead, not expired) and match a finding.
  const exceptionErrors: Finding[] = [];
  const records: ExceptionRecord[] = [];
  const source = options.exceptionsSource ?? "exceptions";
  const err = (key: string, found: string, required: string, fix: string): Finding => ({
    controlId: EXCEPTIONS_CONTROL.id,
    id: `${EXCEPTIONS_CONTROL.id}:${key}`,
    severity: "error",
    key,
    path: source,
    found,
    required,
    fix,
  });
  const today = now.toISOString().slice(0, 10);
  const groupsOf = new Map(model.roles.map((r) => [r.role, r.groups]));
  (options.exceptions ?? []).forEach((ex, i) => {
    const label = `${ex.control} ${ex.finding}`;
    const problems: Finding[] = [];
    const expires = Date.parse(`${ex.expires}T23:59:59Z`);
    if (Number.isNaN(expires)) problems.push(err(`${i}:date`, `exception ${label}: expiry '${ex.expires}' is not a date`, "a date YYYY-MM-DD", "write the date the deviation ends, at most 180 days ahead"));
    else if (expires < now.getTime())
      problems.push(err(`${i}:expired`, `exception ${label} expired on ${ex.expires} (today ${today})`, "no expired exception", `fix the finding, or renew the exception with a new approval (${ex.ticket})`));
    else if (expires - now.getTime() > CP_LIMITS.exceptionMaxDays * DAY)
      problems.push(
        err(
          `${i}:too-far`,
          `exception ${label} expires ${ex.expires}, more than ${CP_LIMITS.exceptionMaxDays} days after ${today}`,
          `expiry ≤ ${CP_LIMITS.exceptionMaxDays} days ahead`,
          "set an earlier expiry and review the deviation again then",
        ),
      );
    const result = results.find((r) => r.control.id === ex.control);
    const control = result?.control ?? (ex.control === EXCEPTIONS_CONTROL.id ? EXCEPTIONS_CONTROL : undefined);
    if (!control) problems.push(err(`${i}:unknown-control`, `exception ${label}: no control ${ex.control}`, "a control id from the catalog", "fix the control id"));
    else {
      const rule = control.exceptions;
      const tier = model.environment.tier;
      if (rule === "never")
        problems.push(
          err(`${i}:not-exceptable`, `exception ${label}: ${control.id} cannot be excepted (${control.references.join(", ")})`, `no exception to ${control.id} in any tier`, `fix the finding: ${control.title}`),
        );
      else if (!rule.tiers.includes(tier))
        problems.push(
          err(
            `${i}:tier`,
            `exception ${label}: ${control.id} cannot be excepted in tier ${tier}${control.basis === "must" && tier === "production" ? ` (a MUST of ${control.references.join(", ")})` : ""}`,
            `exceptions to ${control.id} only in ${rule.tiers.join(", ")}`,
            `fix the finding: ${control.title}`,
          ),
        );
      else {
        if (!rule.approvers.includes(ex.approvedBy))
          problems.push(
            err(
              `${i}:approver`,
              `exception ${label} approved by ${ex.approvedBy}, who may not approve exceptions to ${control.id}`,
              `approved by ${rule.approvers.join(" or ")}`,
              `have ${rule.approvers.join(" or ")} review and approve it`,
            ),
          );
        // The approver must not be the one who benefits: the control's owner role, nor anyone
        // holding it (a group in both roles) (NCSSR 2.1).
        const shared = (groupsOf.get(ex.approvedBy) ?? []).filter((g) => (groupsOf.get(control.owner) ?? []).includes(g));
        if (ex.approvedBy === control.owner || shared.length)
          problems.push(
            err(
              `${i}:beneficiary`,
              `exception ${label} approved by ${ex.approvedBy}${shared.length ? ` (group ${shared.join(", ")} also holds ${control.owner})` : ""}, the role whose work ${control.id} checks`,
              `approved by someone who does not hold ${control.owner}`,
              `have a ${rule.approvers.filter((r) => r !== control.owner).join(" or ")} outside ${control.owner} approve it`,
            ),
          );
      }
    }
    const covers = result?.findings.filter((f) => f.id === ex.finding) ?? [];
    if (result && covers.length === 0)
      problems.push(err(`${i}:unmatched`, `exception ${label} matches no finding`, "every exception covers a current finding", "remove the exception (the finding is gone) or fix its finding id"));
    exceptionErrors.push(...problems);
    if (result && problems.length === 0)
      for (const f of covers) {
        result.findings = result.findings.filter((x) => x !== f);
        result.excepted.push(f);
      }
    records.push({ ...ex, covers: problems.length === 0 ? covers.map((f) => f.id) : [] });
  });
  for (const r of results) if (r.status === "fail" && r.findings.length === 0) r.status = "excepted";
  results.push({
    control: EXCEPTIONS_CONTROL,
    status: exceptionErrors.length ? "fail" : "pass",
    findings: exceptionErrors,
    excepted: [],
    evidence: [source],
  });

  const open = results.flatMap((r) => r.findings);
  return {
    environment: model.environment.name,
    tier: model.environment.tier,
    rootOfTrust: model.environment.rootOfTrust,
    // The checks depend on the day only (dated BR limits, exception expiry): the report names the
    // day, so two synths of the same input on the same day are byte-identical.
    evaluatedAt: `${now.toISOString().slice(0, 10)}T00:00:00Z`,
    results,
    exceptions: records,
    exceptionErrors,
    outputs: options.outputs ?? [],
    counts: {
      controls: results.length,
      passed: results.filter((r) => r.status === "pass").length,
      failed: results.filter((r) => r.status === "fail").length,
      excepted: results.filter((r) => r.status === "excepted").length,
      notApplicable: results.filter((r) => r.status === "not-applicable").length,
      errors: open.filter((f) => f.severity === "error").length,
      warnings: open.filter((f) => f.severity === "warning").length,
    },
  };
}

/** True when the result refuses a deployment (an open error-level finding). */
export function refuses(r: PolicyResult): boolean {
  return r.counts.errors > 0;
}
