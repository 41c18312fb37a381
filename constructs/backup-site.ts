import { Construct } from "./cdktf.js";
import type { Environment, Site } from "../environments/schema.js";
import { DATABASE_NAME, Database, databaseBackup, RA_DATABASE_NAME, TSA_DATABASE_NAME } from "./database.js";
import type { TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";
import { ConstructError } from "./errors.js";

export interface BackupSiteProps {
  readonly model: TopologyModel;
  readonly env: Environment;
  readonly site: Site;
  readonly primary: Site;
  readonly databaseZone: Zone;
  /** Where the RA's store lives (the RA zone). */
  readonly raZone: Zone;
  /** Where the TSA's store lives (the timestamping zone). */
  readonly tsaZone: Zone;
}

/**
 * The backup site (BR 5.7.1.1 business continuity): a second Lao data center holding an HSM
 * member with every online CA key (replicated by the HSM cluster), CloudNativePG replica
 * clusters of the CA database and the RA store streaming from the primary, the public repository and OCSP responder (active), and the
 * signing services as warm standbys (replicas 0, CRL CronJobs suspended) that the failover
 * runbook starts. RPO and RTO come from the environment's continuity settings.
 */
export class BackupSite extends Construct {
  readonly database: Database;
  readonly raDatabase: Database;
  readonly tsaDatabase?: Database;

  constructor(scope: Construct, id: string, props: BackupSiteProps) {
    super(scope, id);
    const addresses = props.env.database.replicationAddresses?.[props.primary.name];
    if (!addresses) throw new ConstructError(`database.replicationAddresses.${props.primary.name} is required with a backup site`, this);
    const replica = (cid: string, name: string, zone: Zone, primaryAddress: string) =>
      new Database(this, cid, {
        name,
        model: props.model,
        zone,
        podCidr: props.site.kubernetes.podCidr,
        settings: props.env.database,
        mode: { type: "replica", primaryAddress, primarySite: props.primary.name },
        backup: databaseBackup(props.env, props.site, props.primary),
      });
    this.database = replica("database-replica", DATABASE_NAME, props.databaseZone, addresses.ca);
    this.raDatabase = replica("ra-database-replica", RA_DATABASE_NAME, props.raZone, addresses.ra);
    if (props.env.tsa) {
      if (!addresses.tsa) throw new ConstructError(`database.replicationAddresses.${props.primary.name}.tsa is required with a TSA and a backup site`, this);
      this.tsaDatabase = replica("tsa-database-replica", TSA_DATABASE_NAME, props.tsaZone, addresses.tsa);
    }
  }
}
