/** Audit log controls (BR 5.4; NCSSR 3.1). */
import { CP_LIMITS } from "../cp-limits.js";
import type { Control, FindingInput } from "../types.js";

/** Components whose events the CA must record (CA, RA, VA, repository; BR 5.4.1). */
export const AUDITED_KINDS = new Set(["issuing-ca", "ocsp-signer", "crl-publisher", "ra", "ra-frontend", "ocsp-responder", "repository", "audit-integrity-check"]);

export const AUDIT_CONTROLS: Control[] = [
  {
    id: "LCA-AUD-01",
    title: "Every CA, RA and VA workload ships its log",
    rfc3647: "5.4.1",
    references: ["BR 5.4.1", "NCSSR 3.1.1.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Every CA, RA and VA workload sends its events to the site's audit collector over mutual TLS, and the collector forwards them to the audit sink (BR 5.4.1, NCSSR 3.1.1.1).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const comp = new Map(m.components.map((c) => [c.id, c]));
      const collectorsBySite = new Map<string, string[]>();
      for (const c of m.components.filter((c) => c.kind === "audit-collector")) collectorsBySite.set(c.site, [...(collectorsBySite.get(c.site) ?? []), c.id]);
      // One pass over the flows: who ships to a collector, which collectors forward to the sink.
      const shipping = new Set<string>();
      const forwarding = new Set<string>();
      for (const f of m.flows) {
        if (f.from.type !== "component" || !f.mtls) continue;
        if (f.to.type === "component" && comp.get(f.to.id)?.kind === "audit-collector") shipping.add(f.from.id);
        if (f.to.type === "external" && f.to.kind === "audit-sink") forwarding.add(f.from.id);
      }
      for (const c of m.components.filter((c) => AUDITED_KINDS.has(c.kind))) {
        if (!shipping.has(c.id))
          out.push({
            key: `component:${c.id}`,
            path: c.path,
            found: `${c.id} ships no log to an audit collector`,
            required: "a mTLS flow to the site's audit collector",
            fix: "ship the workload's log (ctx.audit.ship(workload))",
          });
      }
      for (const [site, ids] of collectorsBySite)
        for (const id of ids)
          if (!forwarding.has(id))
            out.push({
              key: `collector:${id}`,
              path: comp.get(id)!.path,
              found: `audit collector ${id} (site ${site}) forwards to no audit sink`,
              required: "every collector forwards to the audit sink over mTLS",
              fix: "build the site's collector with the AuditLog construct, which forwards to auditLog.sink over TLS (a flow declared without the collector's forwarding configuration ships nothing)",
            });
      for (const site of m.environment.sites)
        if (m.components.some((c) => c.site === site.name && AUDITED_KINDS.has(c.kind)) && !collectorsBySite.has(site.name))
          out.push({ key: `site:${site.name}`, path: m.environment.name, found: `site ${site.name} has no audit collector`, required: "an audit collector per site", fix: "add the AuditLog construct to the site" });
      return out;
    },
  },
  {
    id: "LCA-AUD-02",
    title: "Audit log retention (7 years in production)",
    rfc3647: "5.4.3",
    references: ["BR 5.4.3", "NCSSR 3.1.2.1", "CP 5.4.3"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale: "Audit records are kept at least 2 years (BR 5.4.3) and, by our CP, 7 years in production.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const tier = m.environment.tier;
      const min = tier === "production" ? CP_LIMITS.auditRetentionDays.production : CP_LIMITS.auditRetentionDays.staging;
      const days = m.environment.auditLog.retentionDays;
      return days >= min ? [] : [{ key: "retention", path: m.environment.name, found: `retention ${days} days (tier ${tier})`, required: `≥ ${min} days`, fix: `set auditLog.retentionDays ≥ ${min}` }];
    },
  },
  {
    id: "LCA-AUD-03",
    title: "Audit log integrity checked at least every 31 days",
    rfc3647: "5.4.4",
    references: ["NCSSR 3.1.2", "BR 5.4.4"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "The integrity of the audit log is verified by an automated job at least every 31 days (NCSSR 3.1.2), reading the CA database (hash chain) read-only.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const max = CP_LIMITS.auditIntegrityMaxDays;
      if (m.environment.auditLog.integrityCheckIntervalDays > max)
        out.push({
          key: "interval",
          path: m.environment.name,
          found: `integrity check every ${m.environment.auditLog.integrityCheckIntervalDays} days`,
          required: `≤ ${max} days (NCSSR 3.1.2)`,
          fix: `set auditLog.integrityCheckIntervalDays ≤ ${max}`,
        });
      const s = m.schedules.filter((x) => x.kind === "audit-integrity");
      if (s.length === 0) out.push({ key: "schedule", path: m.environment.name, found: "no audit integrity schedule", required: "a scheduled integrity check", fix: "schedule the audit-integrity-check job" });
      for (const x of s) {
        if (x.intervalHours > max * 24)
          out.push({ key: `schedule:${x.path}`, path: x.path, found: `integrity check runs every ${x.intervalHours / 24} days`, required: `≤ ${max} days`, fix: `set auditLog.integrityCheckIntervalDays ≤ ${max}` });
        const job = m.components.find((c) => c.path === x.path);
        if (job && !m.grants.some((g) => g.kind === "database-read" && g.grantee === job.id))
          out.push({ key: `grant:${job.id}`, path: x.path, found: `${job.id} cannot read the CA database`, required: "read-only access to the hash chain", fix: "database.grantRead(check)" });
      }
      return out;
    },
  },
];
