/** Business continuity and data residency (BR 5.7.1.1; source documents). */
import { CP_LIMITS } from "../cp-limits.js";
import type { Control, FindingInput } from "../types.js";

/** Great-circle distance in km (haversine). */
export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const h = Math.sin(rad(b.latitude - a.latitude) / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(rad(b.longitude - a.longitude) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

export const CONTINUITY_CONTROLS: Control[] = [
  {
    id: "LCA-BCP-01",
    title: "Production has a distant backup site with HSM, database replica, repository and OCSP",
    rfc3647: "5.7.4",
    references: ["BR 5.7.1.1", "BR 6.2.4"],
    severity: "error",
    tiers: ["production"],
    rationale: "A disaster at LANIC must not stop revocation or lose keys: the backup site, at least the CP's minimum distance away (BR 5.7.1.1 (14)), holds an HSM member with every online CA key (BR 5.7.1.1 (11)), a database replica, the repository and OCSP, and standby signing services.",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging", "production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const sites = m.environment.sites;
      const primary = sites.find((s) => s.role === "primary");
      const backups = sites.filter((s) => s.role === "backup");
      if (!primary || backups.length === 0)
        return [{ key: "backup-site", path: m.environment.name, found: `no backup site (sites: ${sites.map((s) => s.name).join(", ")})`, required: "a backup site in a different location", fix: "add a site with role 'backup' in environments/<env>.ts" }];
      const online = m.hsms.find((h) => h.name === "online");
      const onlineKeys = m.keys.filter((k) => k.location.type === "hsm-partition");
      const replicatingSites = new Set(m.flows.filter((f) => f.to.type === "external" && f.to.kind === "replication").map((f) => f.site));
      const signers = new Set(m.grants.filter((g) => g.kind === "hsm-sign").map((g) => g.grantee));
      for (const b of backups) {
        const km = distanceKm(primary, b);
        if (km < CP_LIMITS.backupSiteMinDistanceKm)
          out.push({ key: `distance:${b.name}`, path: m.environment.name, found: `backup site '${b.name}' (${b.city}) is ${km.toFixed(0)} km from '${primary.name}' (${primary.city})`, required: `≥ ${CP_LIMITS.backupSiteMinDistanceKm} km (CP 5.7.4)`, fix: "choose a backup facility further away" });
        const here = m.components.filter((c) => c.site === b.name);
        if (onlineKeys.length > 0 && !online?.members.some((x) => x.site === b.name))
          out.push({ key: `hsm:${b.name}`, path: online?.path ?? m.environment.name, found: `no HSM member at backup site '${b.name}' (keys ${onlineKeys.map((k) => k.label).join(", ")} would be lost with the primary)`, required: "an HSM cluster member at the backup site holding every online CA key", fix: "add an hsm.members entry with site: the backup site" });
        if (!here.some((c) => c.kind === "database" && c.standby) || !replicatingSites.has(b.name))
          out.push({ key: `database:${b.name}`, path: m.environment.name, found: `no database replica streaming to backup site '${b.name}'`, required: "a replica cluster at the backup site", fix: "build the site with the BackupSite construct" });
        for (const kind of ["repository", ...(m.environment.cas.some((c) => c.ocsp) ? ["ocsp-responder"] : [])])
          if (!here.some((c) => c.kind === kind && c.replicas >= 1))
            out.push({ key: `${kind}:${b.name}`, path: m.environment.name, found: `no active ${kind} at backup site '${b.name}'`, required: `${kind} running at the backup site`, fix: `run the ${kind} at every site` });
        for (const ca of m.environment.cas.filter((c) => c.type === "issuing")) {
          const standby = here.find((c) => c.kind === "issuing-ca" && c.ca === ca.name);
          if (!standby || !signers.has(standby.id))
            out.push({ key: `issuing-ca:${b.name}:${ca.name}`, path: standby?.path ?? m.environment.name, found: `no standby issuing CA '${ca.name}' able to sign at '${b.name}'`, required: "a standby issuing CA per CA at the backup site", fix: "build the issuing tier at the backup site" });
        }
      }
      return out;
    },
  },
  {
    id: "LCA-BCP-02",
    title: "Recovery point and time objectives stated and within the CP",
    rfc3647: "5.7.4",
    references: ["BR 5.7.1.1"],
    severity: "error",
    tiers: ["production"],
    rationale: `The business continuity plan states RTO and RPO (BR 5.7.1.1 (8), (12), (13)); our CP requires RPO ≤ ${CP_LIMITS.rpoMaxMinutes} minutes and RTO ≤ ${CP_LIMITS.rtoMaxHours} hours in production.`,
    basis: "cp",
    owner: "ca-chief-officer",
    exceptions: { tiers: ["dev", "staging", "production"], approvers: ["security-officer", "system-auditor"] },
    check(m) {
      const out: FindingInput[] = [];
      const { rpoMinutes, rtoHours } = m.environment.continuity ?? {};
      if (!(rpoMinutes > 0) || rpoMinutes > CP_LIMITS.rpoMaxMinutes)
        out.push({ key: "rpo", path: m.environment.name, found: `RPO ${rpoMinutes ?? "unset"} minutes`, required: `0 < RPO ≤ ${CP_LIMITS.rpoMaxMinutes} minutes`, fix: `set continuity.rpoMinutes ≤ ${CP_LIMITS.rpoMaxMinutes}` });
      if (!(rtoHours > 0) || rtoHours > CP_LIMITS.rtoMaxHours)
        out.push({ key: "rto", path: m.environment.name, found: `RTO ${rtoHours ?? "unset"} hours`, required: `0 < RTO ≤ ${CP_LIMITS.rtoMaxHours} hours`, fix: `set continuity.rtoHours ≤ ${CP_LIMITS.rtoMaxHours}` });
      return out;
    },
  },
  {
    id: "LCA-RES-01",
    title: "Production sites in Laos",
    rfc3647: "5.1.1",
    references: ["Source documents: data residency"],
    severity: "error",
    tiers: ["production"],
    rationale: "The Lao-side systems sit in LANIC and the information on which authentication rests must stay in facilities inside Laos (source documents).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: "never",
    check(m) {
      const out: FindingInput[] = [];
      for (const s of m.environment.sites)
        if (s.country !== CP_LIMITS.residencyCountry)
          out.push({ key: `site:${s.name}`, path: m.environment.name, found: `site '${s.name}' is in ${s.city}, ${s.country}`, required: `every production site in ${CP_LIMITS.residencyCountry}`, fix: "move the site to a Lao facility" });
      const siteNames = new Set(m.environment.sites.map((s) => s.name));
      for (const h of m.hsms)
        for (const mem of h.members)
          if (!siteNames.has(mem.site)) out.push({ key: `hsm-member:${mem.name}`, path: h.path, found: `HSM member '${mem.name}' at unknown site '${mem.site}'`, required: "HSM members at the environment's Lao sites", fix: "place the member at a declared site" });
      return out;
    },
  },
];
