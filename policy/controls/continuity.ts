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
    rationale:
      "A disaster at LANIC must not stop revocation or lose keys: the backup site, at least the CP's minimum distance away (BR 5.7.1.1 (14)), holds an HSM member with every online CA key (BR 5.7.1.1 (11)), a database replica, the repository and OCSP, and standby signing services.",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging", "production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const sites = m.environment.sites;
      const primary = sites.find((s) => s.role === "primary");
      const backups = sites.filter((s) => s.role === "backup");
      if (!primary || backups.length === 0)
        return [
          {
            key: "backup-site",
            path: m.environment.name,
            found: `no backup site (sites: ${sites.map((s) => s.name).join(", ")})`,
            required: "a backup site in a different location",
            fix: "add a site with role 'backup' in environments/<env>.ts",
          },
        ];
      const online = m.hsms.find((h) => h.name === "online");
      const onlineKeys = m.keys.filter((k) => k.location.type === "hsm-partition");
      const replicatingSites = new Set(m.flows.filter((f) => f.to.type === "external" && f.to.kind === "replication").map((f) => f.site));
      const signers = new Set(m.grants.filter((g) => g.kind === "hsm-sign").map((g) => g.grantee));
      for (const b of backups) {
        const km = distanceKm(primary, b);
        if (km < CP_LIMITS.backupSiteMinDistanceKm)
          out.push({
            key: `distance:${b.name}`,
            path: m.environment.name,
            found: `backup site '${b.name}' (${b.city}) is ${km.toFixed(0)} km from '${primary.name}' (${primary.city})`,
            required: `≥ ${CP_LIMITS.backupSiteMinDistanceKm} km (CP 5.7.4)`,
            fix: "choose a backup facility further away",
          });
        const here = m.components.filter((c) => c.site === b.name);
        if (onlineKeys.length > 0 && !online?.members.some((x) => x.site === b.name))
          out.push({
            key: `hsm:${b.name}`,
            path: online?.path ?? m.environment.name,
            found: `no HSM member at backup site '${b.name}' (keys ${onlineKeys.map((k) => k.label).join(", ")} would be lost with the primary)`,
            required: "an HSM cluster member at the backup site holding every online CA key",
            fix: "add an hsm.members entry with site: the backup site",
          });
        if (!here.some((c) => c.kind === "database" && c.standby) || !replicatingSites.has(b.name))
          out.push({
            key: `database:${b.name}`,
            path: m.environment.name,
            found: `no database replica streaming to backup site '${b.name}'`,
            required: "a replica cluster at the backup site",
            fix: "build the site with the BackupSite construct",
          });
        for (const kind of ["repository", ...(m.environment.cas.some((c) => c.ocsp) ? ["ocsp-responder"] : [])])
          if (!here.some((c) => c.kind === kind && c.replicas >= 1))
            out.push({ key: `${kind}:${b.name}`, path: m.environment.name, found: `no active ${kind} at backup site '${b.name}'`, required: `${kind} running at the backup site`, fix: `run the ${kind} at every site` });
        for (const ca of m.environment.cas.filter((c) => c.type === "issuing")) {
          const standby = here.find((c) => c.kind === "issuing-ca" && c.ca === ca.name);
          if (!standby || !signers.has(standby.id))
            out.push({
              key: `issuing-ca:${b.name}:${ca.name}`,
              path: standby?.path ?? m.environment.name,
              found: `no standby issuing CA '${ca.name}' able to sign at '${b.name}'`,
              required: "a standby issuing CA per CA at the backup site",
              fix: "build the issuing tier at the backup site",
            });
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
        out.push({
          key: "rpo",
          path: m.environment.name,
          found: `RPO ${rpoMinutes ?? "unset"} minutes`,
          required: `0 < RPO ≤ ${CP_LIMITS.rpoMaxMinutes} minutes`,
          fix: `set continuity.rpoMinutes ≤ ${CP_LIMITS.rpoMaxMinutes}`,
        });
      if (!(rtoHours > 0) || rtoHours > CP_LIMITS.rtoMaxHours)
        out.push({ key: "rto", path: m.environment.name, found: `RTO ${rtoHours ?? "unset"} hours`, required: `0 < RTO ≤ ${CP_LIMITS.rtoMaxHours} hours`, fix: `set continuity.rtoHours ≤ ${CP_LIMITS.rtoMaxHours}` });
      return out;
    },
  },
  {
    id: "LCA-BCP-03",
    title: "Every database is backed up: scheduled base backups, continuous WAL archive, encrypted",
    rfc3647: "5.5.4",
    references: ["BR 5.7.1.1 (13)", "BR 5.5.4", "NCSSR 1.1.1"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale:
      "Replication copies a deletion or a corruption within seconds: only base backups plus the WAL archive allow a point-in-time recovery (BR 5.7.1.1 (13): how often backup copies of essential business information are taken). Each database at each site writes encrypted base backups on a schedule and its WAL continuously to an object store it can reach.",
    basis: "cp",
    owner: "ia-operator",
    exceptions: { tiers: ["staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const c of m.components.filter((x) => x.kind === "database")) {
        const b = c.backup;
        if (!b) {
          out.push({
            key: `database:${c.id}`,
            path: c.path,
            found: `database ${c.id} has no backup (no base backups, no WAL archive)`,
            required: "base backups on a schedule and a continuous WAL archive to an object store",
            fix: "set database.backup in environments/<env>.ts (schedule, retentionDays, encryption, objectStores)",
          });
          continue;
        }
        const missing = [!b.schedule && "base backup schedule", !b.walArchive && "WAL archive", !/^(AES256|aws:kms)$/.test(b.encryption) && `encryption (${b.encryption})`].filter(Boolean);
        const reaches = m.flows.some((f) => f.from.type === "component" && f.from.id === c.id && f.to.type === "external" && f.to.kind === "object-store" && f.to.name === b.store);
        if (!reaches) missing.push(`a flow to ${b.store}`);
        if (missing.length)
          out.push({
            key: `database:${c.id}`,
            path: c.path,
            found: `database ${c.id} backup lacks ${missing.join(", ")}`,
            required: "encrypted base backups on a schedule, the WAL archive, and a flow to the store",
            fix: "build the database with its backup settings (constructs/database.ts)",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-BCP-04",
    title: "Database backups stored in Laos",
    rfc3647: "5.5.4",
    references: ["Source documents: data residency", "BR 5.5.3"],
    severity: "error",
    tiers: ["production"],
    rationale: "The information on which authentication rests must stay in facilities inside Laos (source documents): every object store holding a database backup sits in a declared site of the environment, in Laos.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: "never",
    check(m) {
      const out: FindingInput[] = [];
      const sites = new Map(m.environment.sites.map((s) => [s.name, s]));
      const stores = new Map<string, { site: string; country: string; path: string; databases: string[] }>();
      for (const c of m.components) {
        if (!c.backup) continue;
        const { store, site, country } = c.backup;
        const e = stores.get(store) ?? { site, country, path: c.path, databases: [] };
        e.databases.push(c.id);
        stores.set(store, e);
      }
      for (const [store, e] of [...stores].sort())
        if (e.country !== CP_LIMITS.residencyCountry || sites.get(e.site)?.country !== CP_LIMITS.residencyCountry)
          out.push({
            key: `store:${store}`,
            path: e.path,
            found: `backups of ${e.databases.join(", ")} are stored in ${store} at site '${e.site}' (${e.country})`,
            required: `object stores in ${CP_LIMITS.residencyCountry}`,
            fix: "put the object store in a Lao site",
          });
      return out;
    },
  },
  {
    id: "LCA-BCP-05",
    title: "Database backups kept at least the CP's archive period",
    rfc3647: "5.5.2",
    references: ["BR 5.5.2"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale: `Records of verification, issuance and revocation are archived at least two years after they were last relied upon (BR 5.5.2); our CP keeps them ${CP_LIMITS.archiveRetentionDays.production} days in production and ${CP_LIMITS.archiveRetentionDays.staging} in staging, so base backups and the WAL archive that hold them are kept as long.`,
    basis: "cp",
    owner: "ia-operator",
    exceptions: { tiers: ["staging", "production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const min = CP_LIMITS.archiveRetentionDays[m.environment.tier === "production" ? "production" : "staging"];
      for (const c of m.components)
        if (c.backup && c.backup.retentionDays < min)
          out.push({
            key: `database:${c.id}`,
            path: c.path,
            found: `backups of ${c.id} kept ${c.backup.retentionDays} days (tier ${m.environment.tier})`,
            required: `≥ ${min} days (CP 5.5.2)`,
            fix: `set database.backup.retentionDays ≥ ${min}`,
          });
      return out;
    },
  },
  {
    id: "LCA-BCP-06",
    title: "Every database can be restored at the backup site",
    rfc3647: "5.7.4",
    references: ["BR 5.7.1.1 (10)", "BR 5.1.8"],
    severity: "error",
    tiers: ["production"],
    rationale:
      "If LANIC is lost, the backup site must be able to restore each database to a point in time (BR 5.7.1.1 (10); off-site backup BR 5.1.8): each replica there reads the primary cluster's backups (same store and server name) over a declared flow, and writes its own to a store at its own site.",
    basis: "cp",
    owner: "ia-operator",
    exceptions: { tiers: ["production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const backups = m.environment.sites.filter((s) => s.role === "backup").map((s) => s.name);
      const primaries = m.components.filter((c) => c.kind === "database" && !c.standby);
      for (const site of backups)
        for (const p of primaries) {
          const replica = m.components.find((c) => c.kind === "database" && c.standby && c.site === site && c.name === p.name);
          const source = p.backup && replica?.restoreFrom?.find((r) => r.store === p.backup!.store && r.serverName === p.backup!.serverName);
          const reaches = source && m.flows.some((f) => f.from.type === "component" && f.from.id === replica!.id && f.to.type === "external" && f.to.kind === "object-store" && f.to.name === source.store);
          if (!replica || !source || !reaches || !replica.backup || replica.backup.site !== site)
            out.push({
              key: `database:${site}:${p.name}`,
              path: replica?.path ?? p.path,
              found: !replica
                ? `no replica of ${p.name} at backup site '${site}'`
                : !source
                  ? `${replica.id} cannot read ${p.id}'s backups${p.backup ? ` (${p.backup.store}, ${p.backup.serverName})` : " (the primary has none)"}`
                  : !reaches
                    ? `${replica.id} has no flow to ${source.store}`
                    : `${replica.id} writes no backup at site '${site}'`,
              required: "a replica at the backup site that reads the primary's backups over a declared flow and backs up to its own site's store",
              fix: "declare an object store per site in database.backup.objectStores (BackupSite builds the rest)",
            });
        }
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
          out.push({
            key: `site:${s.name}`,
            path: m.environment.name,
            found: `site '${s.name}' is in ${s.city}, ${s.country}`,
            required: `every production site in ${CP_LIMITS.residencyCountry}`,
            fix: "move the site to a Lao facility",
          });
      const siteNames = new Set(m.environment.sites.map((s) => s.name));
      for (const h of m.hsms)
        for (const mem of h.members)
          if (!siteNames.has(mem.site))
            out.push({
              key: `hsm-member:${mem.name}`,
              path: h.path,
              found: `HSM member '${mem.name}' at unknown site '${mem.site}'`,
              required: "HSM members at the environment's Lao sites",
              fix: "place the member at a declared site",
            });
      return out;
    },
  },
];
