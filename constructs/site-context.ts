import type { TerraformStack } from "cdktf";
import type { Environment, Site, WorkloadKind } from "../environments/schema.js";
import type { AuditLog } from "./audit-log.js";
import type { Database } from "./database.js";
import { HardenedWorkload } from "./hardened-workload.js";
import type { HsmCluster } from "./hsm-cluster.js";
import type { ComponentKind, TopologyModel, ZoneKind } from "./model.js";
import type { Zone } from "./zone.js";
import type { Construct } from "constructs";
import { ConstructError } from "./errors.js";

/** What every component of one site needs: the environment, the site, its stack and zones, and
 *  the shared services (HSM, database, audit log) it is granted access to. */
export interface SiteContext {
  readonly env: Environment;
  readonly model: TopologyModel;
  readonly site: Site;
  readonly stack: TerraformStack;
  readonly zones: Record<ZoneKind, Zone>;
  readonly hsm: HsmCluster;
  readonly database: Database;
  readonly audit: AuditLog;
  /** A backup site: signing services are warm standbys (replicas 0, CronJobs suspended). */
  readonly standby: boolean;
}

export const CONFIG_DIR = "/etc/lanic-ca";

export interface PkiWorkloadOptions {
  readonly kind: ComponentKind;
  /** Which workload size of the environment applies. @default kind */
  readonly sizeOf?: WorkloadKind;
  readonly name: string;
  readonly zone: ZoneKind;
  /** pki-services arguments, the role first. */
  readonly args: string[];
  readonly ports?: { name: string; port: number }[];
  readonly schedule?: string;
  readonly signing?: boolean;
  readonly ca?: string;
  /** Meant to be reached from the internet (HardenedWorkloadProps.internetFacing). @default false */
  readonly internetFacing?: boolean;
}

/** A workload running the pki-services image in one of its roles, shipping its log to the
 *  audit collector. Signing services at a backup site are standbys. */
export function pkiWorkload(scope: Construct, id: string, ctx: SiteContext, o: PkiWorkloadOptions): HardenedWorkload {
  const sizeOf = o.sizeOf ?? (o.kind as WorkloadKind);
  const size = ctx.env.workloads[sizeOf];
  if (!size) throw new ConstructError(`the environment sizes no '${sizeOf}' workload`, scope);
  const standby = ctx.standby && (o.signing ?? false);
  const w = new HardenedWorkload(scope, id, {
    model: ctx.model,
    zone: ctx.zones[o.zone],
    podCidr: ctx.site.kubernetes.podCidr,
    kind: o.kind,
    name: o.name,
    image: ctx.env.images.pkiServices,
    args: o.args,
    role: o.args[0],
    replicas: standby ? 0 : size.replicas,
    resources: size.resources,
    ports: o.ports,
    schedule: o.schedule,
    standby,
    signing: o.signing,
    ca: o.ca,
    internetFacing: o.internetFacing,
  });
  ctx.audit.ship(w);
  return w;
}

/** A cron schedule that runs every `hours` hours (sub-hour: minutes; ≥ 1 day: days). */
export function cronEvery(hours: number): string {
  if (hours < 1) return `*/${Math.max(1, Math.round(hours * 60))} * * * *`;
  if (hours < 24) return `0 */${Math.round(hours)} * * *`;
  const days = Math.max(1, Math.round(hours / 24));
  // A day-of-month step restarts each month: at a month's end the gap can only be shorter.
  return days === 1 ? "0 0 * * *" : `0 0 */${days} * *`;
}
