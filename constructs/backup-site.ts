import { Construct } from "constructs";
import type { Environment, Site } from "../environments/schema.js";
import { Database } from "./database.js";
import type { TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";

export interface BackupSiteProps {
  readonly model: TopologyModel;
  readonly env: Environment;
  readonly site: Site;
  readonly primary: Site;
  readonly databaseZone: Zone;
}

/**
 * The backup site (BR 5.7.1.1 business continuity): a second Lao data center holding an HSM
 * member with every online CA key (replicated by the HSM cluster), a CloudNativePG replica
 * cluster streaming from the primary, the public repository and OCSP responder (active), and the
 * signing services as warm standbys (replicas 0, CRL CronJobs suspended) that the failover
 * runbook starts. RPO and RTO come from the environment's continuity settings.
 */
export class BackupSite extends Construct {
  readonly database: Database;

  constructor(scope: Construct, id: string, props: BackupSiteProps) {
    super(scope, id);
    const primaryAddress = props.env.database.replicationAddress;
    if (!primaryAddress) throw new Error(`${this.node.path}: database.replicationAddress is required with a backup site`);
    this.database = new Database(this, "database-replica", {
      model: props.model,
      zone: props.databaseZone,
      podCidr: props.site.kubernetes.podCidr,
      settings: props.env.database,
      mode: { type: "replica", primaryAddress, primarySite: props.primary.name },
    });
  }
}
