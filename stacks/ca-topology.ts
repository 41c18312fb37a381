import { Construct } from "../constructs/cdktf.js";
import type { Environment, Site } from "../environments/schema.js";
import { SiteStack } from "./site-stack.js";
import { AuditLog } from "../constructs/audit-log.js";
import { BackupSite } from "../constructs/backup-site.js";
import { DATABASE_NAME, Database, databaseBackup, RA_DATABASE_NAME, TSA_DATABASE_NAME } from "../constructs/database.js";
import { HsmCluster } from "../constructs/hsm-cluster.js";
import { caUrls, IssuingCa, issuingCaServiceConfig } from "../constructs/issuing-ca.js";
import { TopologyModel, ZONE_KINDS, type ZoneKind } from "../constructs/model.js";
import { OfflineRootEnclave } from "../constructs/offline-root-enclave.js";
import { RegistrationAuthority } from "../constructs/registration-authority.js";
import { Repository } from "../constructs/repository.js";
import { pkiWorkload, type SiteContext } from "../constructs/site-context.js";
import { TimeStampingAuthority } from "../constructs/time-stamping-authority.js";
import { TrustedRoles } from "../constructs/trusted-roles.js";
import { ValidationAuthority } from "../constructs/validation-authority.js";
import { Zone } from "../constructs/zone.js";

export interface CaTopologyProps {
  /** A validated environment definition (environments/). */
  readonly environment: Environment;
}

/**
 * The root of the model: builds every component of one environment, one SiteStack per site,
 * and collects the facts (zones, flows, keys, HSMs, grants, roles, schedules) that the policy
 * checks and `lanic-ca diff` read.
 */
export class CaTopology extends Construct {
  readonly model = new TopologyModel();
  readonly env: Environment;
  readonly stacks: SiteStack[] = [];
  readonly offlineRoot?: OfflineRootEnclave;

  constructor(scope: Construct, id: string, props: CaTopologyProps) {
    super(scope, id);
    const env = (this.env = props.environment);
    const model = this.model;
    model.environment = {
      name: env.name,
      tier: env.tier,
      rootOfTrust: env.rootOfTrust.type,
      cpCpsVersion: env.cpCps.version,
      sites: env.sites.map((s) => ({
        name: s.name,
        role: s.role,
        country: s.location.country,
        city: s.location.city,
        latitude: s.location.latitude,
        longitude: s.location.longitude,
        cluster: { configPath: s.kubernetes.configPath, context: s.kubernetes.context, server: s.kubernetes.server },
      })),
      continuity: { ...env.continuity },
      publication: { repositoryBaseUrl: env.repository.baseUrl, ocspUrl: env.va.url },
      auditLog: {
        sink: `${env.auditLog.sink.type}://${env.auditLog.sink.address}:${env.auditLog.sink.port}`,
        retentionDays: env.auditLog.retentionDays,
        integrityCheckIntervalDays: env.auditLog.integrityCheckIntervalDays,
      },
      cas: [
        ...(env.rootOfTrust.type === "offline"
          ? [
              {
                name: env.rootOfTrust.name,
                type: "root" as const,
                subject: { CN: env.rootOfTrust.subject.CN, O: env.rootOfTrust.subject.O },
                keyAlgorithm: env.rootOfTrust.keyAlgorithm,
                urls: caUrls({ env }, env.rootOfTrust.name),
                validityDays: env.rootOfTrust.validityDays,
                custodians: { quorum: env.rootOfTrust.custodians.quorum, total: env.rootOfTrust.custodians.members.length },
                profiles: [],
              },
            ]
          : []),
        ...env.issuingCas.map((ca) => ({
          name: ca.name,
          type: "issuing" as const,
          subject: { CN: ca.subject.CN, O: ca.subject.O },
          keyAlgorithm: ca.keyAlgorithm,
          urls: issuingCaServiceConfig({ env }, ca).urls,
          maxValidityDays: ca.maxValidityDays,
          ocsp: ca.ocsp.enabled,
          profiles: ca.profiles.map((p) => ({
            name: p,
            kind: env.profiles[p].kind,
            maxValidityDays: env.profiles[p].maxValidityDays,
            allowedKeyAlgorithms: [...env.profiles[p].allowedKeyAlgorithms],
            content: structuredClone(env.profiles[p]),
          })),
        })),
      ],
      tsa: env.tsa && {
        name: env.tsa.name,
        ca: env.tsa.ca,
        profile: env.tsa.profile,
        certificate: {
          kind: env.profiles[env.tsa.profile].kind,
          extendedKeyUsage: [...env.profiles[env.tsa.profile].extendedKeyUsage],
          keyUsage: [...env.profiles[env.tsa.profile].keyUsage],
        },
        policyOid: env.tsa.policyOid,
        accuracyMicros: env.tsa.accuracy.seconds * 1_000_000 + env.tsa.accuracy.millis * 1000 + env.tsa.accuracy.micros,
        key: { partition: env.tsa.partition, label: env.tsa.keyLabel, algorithm: env.tsa.keyAlgorithm },
        ntp: env.tsa.ntp.sources.map((s) => ({ name: s.name, address: s.address, port: s.port, country: s.country, facility: s.facility })),
      },
    };

    const hsm = new HsmCluster(this, "hsm", { model, definition: env.hsm });
    if (env.rootOfTrust.type === "offline") this.offlineRoot = new OfflineRootEnclave(this, "offline-root", { model, env, root: env.rootOfTrust });

    const primary = env.sites.find((s) => s.role === "primary")!;
    const backups = env.sites.filter((s) => s.role === "backup");
    for (const site of [primary, ...backups]) this.buildSite(site, primary, hsm, backups);
  }

  private buildSite(site: Site, primary: Site, hsm: HsmCluster, backups: Site[]): void {
    const env = this.env;
    const model = this.model;
    const stack = new SiteStack(this, env, site);
    this.stacks.push(stack);
    const zones = Object.fromEntries(ZONE_KINDS.map((z) => [z, new Zone(stack, `zone-${z}`, { zone: z, site: site.name, model })])) as Record<ZoneKind, Zone>;
    hsm.addSite(stack, zones.hsm, zones.issuing);
    const standby = site.role === "backup";
    const primaryDb = (cid: string, name: string, zone: Zone) =>
      new Database(stack, cid, {
        name,
        model,
        zone,
        podCidr: site.kubernetes.podCidr,
        settings: env.database,
        mode: { type: "primary", replicaSites: backups.map((b) => ({ name: b.name, podCidr: b.kubernetes.podCidr })) },
        backup: databaseBackup(env, site),
      });
    const backupSite = standby ? new BackupSite(stack, "backup-site", { model, env, site, primary, databaseZone: zones.database, raZone: zones.ra, tsaZone: zones.timestamping }) : undefined;
    const database = backupSite?.database ?? primaryDb("database", DATABASE_NAME, zones.database);
    // The RA keeps applications in its own store in the RA zone: nothing reachable from the
    // government network connects to the CA database (NCSSR 1.1.1; policy LCA-NET-03).
    const raDatabase = backupSite?.raDatabase ?? primaryDb("ra-database", RA_DATABASE_NAME, zones.ra);
    const audit = new AuditLog(stack, "audit-log", { model, zone: zones.audit, podCidr: site.kubernetes.podCidr, env });
    const ctx: SiteContext = { env, model, site, stack, zones, hsm, database, audit, standby };

    const repository = new Repository(stack, "repository", ctx);
    const va = new ValidationAuthority(stack, "validation-authority", ctx);
    const ra = new RegistrationAuthority(stack, "registration-authority", ctx, { store: raDatabase });
    for (const ca of env.issuingCas) new IssuingCa(stack, `issuing-ca-${ca.name}`, ctx, { ca, ra, repository, va });
    if (env.tsa) {
      // The TSA records tokens in its own store: its zone faces the government network and the
      // edge, so it never connects to the CA database (NCSSR 1.1.1; policy LCA-NET-03).
      const store = backupSite ? backupSite.tsaDatabase! : primaryDb("tsa-database", TSA_DATABASE_NAME, zones.timestamping);
      new TimeStampingAuthority(stack, "time-stamping-authority", ctx, { tsa: env.tsa, store });
    }

    if (!standby) {
      // NCSSR 3.1.2 / BR 5.4.8: the audit hash chain is verified on a schedule.
      const days = env.auditLog.integrityCheckIntervalDays;
      const check = pkiWorkload(stack, "audit-integrity-check", ctx, {
        kind: "audit-integrity-check",
        sizeOf: "audit-collector",
        name: "audit-integrity-check",
        zone: "audit",
        args: ["audit", "verify"],
        schedule: days <= 1 ? "17 3 * * *" : `17 3 */${days} * *`,
      });
      database.grantRead(check);
      model.schedules.push({ kind: "audit-integrity", intervalHours: days * 24, path: check.node.path });
    }
    new TrustedRoles(stack, "trusted-roles", { model, env, site: site.name, zones });
  }
}
