import { Construct, Manifest } from "./cdktf.js";
import type { DatabaseBackup, Environment, ObjectStore, Site } from "../environments/schema.js";
import { Connections, ExternalPeer, type IConnectable } from "./connections.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import type { BackupFact, TopologyModel } from "./model.js";
import { produced } from "./produced.js";
import type { Zone } from "./zone.js";

export interface DatabaseProps {
  /** Cluster name. @default "lanic-ca-db" (the CA database) */
  readonly name?: string;
  readonly model: TopologyModel;
  readonly zone: Zone;
  readonly podCidr: string;
  readonly settings: Environment["database"];
  /** Primary: the read-write cluster. Replica: a CloudNativePG replica cluster streaming from
   *  the primary site (BR 5.7.1.1 continuity; promoted by the failover runbook). */
  /** A primary accepts streaming replication from every backup site (their pod ranges); a
   *  replica streams from the primary's replication address. */
  readonly mode: { type: "primary"; replicaSites: { name: string; podCidr: string }[] } | { type: "replica"; primaryAddress: string; primarySite: string };
  /** Backups: base backups and the WAL archive go to `store` (at this cluster's site); a replica
   *  also reads the primary's backups from `primaryStore`, so it can be restored at its site.
   *  No default: absent, the cluster is not backed up (policy LCA-BCP-03). */
  readonly backup?: { settings: DatabaseBackup; store: LocatedStore; primaryStore?: LocatedStore };
}

/** An object store with the country of the site that holds it. */
export type LocatedStore = ObjectStore & { country: string };

/** The barmanObjectStore block of a CloudNativePG Cluster (or externalCluster) for `store`:
 *  secrets by name only, objects encrypted server-side, compressed. */
function barmanObjectStore(store: LocatedStore, serverName: string, encryption: DatabaseBackup["encryption"]) {
  return {
    destinationPath: `s3://${store.bucket}/`,
    endpointURL: store.endpoint,
    endpointCA: { name: store.caSecret, key: "ca.crt" },
    serverName,
    s3Credentials: {
      accessKeyId: { name: store.credentialsSecret, key: "ACCESS_KEY_ID" },
      secretAccessKey: { name: store.credentialsSecret, key: "ACCESS_SECRET_KEY" },
    },
    wal: { compression: "gzip", encryption, maxParallel: 2 },
    data: { compression: "gzip", encryption, jobs: 2 },
  };
}

/** The TLS Secrets of cluster `name` (CloudNativePG `spec.certificates`): a server identity
 *  with its CA, and the CA of the client certificates with the replication client's. */
export function databaseCertificates(name: string) {
  return {
    serverTLSSecret: `${name}-server-tls`,
    serverCASecret: `${name}-server-ca`,
    clientCASecret: `${name}-client-ca`,
    replicationTLSSecret: `${name}-replication-tls`,
  };
}

/** Where a grantee mounts its client certificate for the database (libpq PGSSLCERT, PGSSLKEY,
 *  PGSSLROOTCERT name the files in it). */
export const DATABASE_CLIENT_TLS_DIR = "/etc/lanic-ca/db-client";

export const DATABASE_NAME = "lanic-ca-db";
/** The RA's own store (applications, vetting records), apart from the CA database. */
export const RA_DATABASE_NAME = "lanic-ca-ra-db";
/** The TSA's store (token record, audit log) in the timestamping zone. */
export const TSA_DATABASE_NAME = "lanic-ca-tsa-db";
const PORT = 5432;

/**
 * The CA database: a PostgreSQL cluster run by the CloudNativePG operator (a `Cluster` custom
 * resource through the provider's Manifest resource), TLS only, no superuser access, one login
 * role per grantee zone. Credentials live in Secrets created out of band; the IaC only names them.
 */
export class Database extends Construct implements IConnectable {
  readonly connections: Connections;
  readonly componentId: string;
  readonly name: string;
  /** Login roles granted, `<zone>_rw` / `<zone>_ro`: one per grantee zone (least privilege). */
  private readonly roles = new Map<string, "rw" | "ro">();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: DatabaseProps,
  ) {
    super(scope, id);
    const site = props.zone.site;
    const name = (this.name = props.name ?? DATABASE_NAME);
    this.componentId = `${site}/${name}`;
    const labels = { "cnpg.io/cluster": name };
    this.connections = new Connections(this, {
      model: props.model,
      componentId: this.componentId,
      name,
      zone: props.zone,
      podLabels: labels,
      podCidr: props.podCidr,
    });
    const s = props.settings;
    const mode = props.mode;
    const source = `${name}-primary`;
    const backup = props.backup;
    const serverName = `${name}-${site}`;
    const primaryServerName = mode.type === "replica" ? `${name}-${mode.primarySite}` : serverName;
    const spec: Record<string, unknown> = {
      instances: s.instances,
      imageName: s.image,
      enableSuperuserAccess: false,
      storage: { size: s.storageSize, storageClass: s.storageClass },
      postgresql: {
        parameters: { ssl_min_protocol_version: "TLSv1.3", log_connections: "on", log_disconnections: "on", password_encryption: "scram-sha-256" },
        // Mutual TLS (NCSSR 1.2.2; LCA-NET-07 reads these lines): no connection without TLS, and
        // every TLS login presents a client certificate from the client CA whose CN is the role,
        // besides its password. CloudNativePG puts these before its own final `host all all all`.
        pg_hba: ["hostnossl all all all reject", "hostssl all all all scram-sha-256 clientcert=verify-full"],
      },
      // The server identity and the CA of the client certificates are the CA's own (Secrets
      // created out of band), not the operator's self-signed ones.
      certificates: databaseCertificates(name),
      affinity: { enablePodAntiAffinity: true, podAntiAffinityType: "required", topologyKey: "kubernetes.io/hostname" },
      ...(mode.type === "primary"
        ? {
            bootstrap: { initdb: { database: "lanic_ca", owner: "lanic_ca" } },
            // One login role per grantee zone; its password Secret is created out of band in the
            // database zone, its connection URI in the grantee's zone (docs/runbooks/secrets.md).
            managed: {
              roles: produced(() =>
                [...this.roles].sort().map(([role, access]) => ({
                  name: role,
                  ensure: "present",
                  login: true,
                  passwordSecret: { name: `${name}-role-${role.replace(/_/g, "-")}` },
                  inRoles: access === "rw" ? ["pg_read_all_data", "pg_write_all_data"] : ["pg_read_all_data"],
                })),
              ),
            },
          }
        : {
            bootstrap: { pg_basebackup: { source } },
            replica: { enabled: true, source },
            externalClusters: [
              {
                name: source,
                connectionParameters: { host: mode.primaryAddress, user: "streaming_replica", sslmode: "verify-full", dbname: "postgres" },
                sslKey: { name: `${name}-replication`, key: "tls.key" },
                sslCert: { name: `${name}-replication`, key: "tls.crt" },
                sslRootCert: { name: `${name}-replication`, key: "ca.crt" },
                // Streaming first, the primary's WAL archive when streaming falls behind, and
                // the primary's base backups for a restore at this site (PITR).
                ...(backup?.primaryStore ? { barmanObjectStore: barmanObjectStore(backup.primaryStore, primaryServerName, backup.settings.encryption) } : {}),
              },
            ],
          }),
      // RFC 3647 5.5.2 / BR 5.5.2: kept for the CP's archive period; CloudNativePG deletes older
      // base backups and the WAL they no longer need.
      ...(backup ? { backup: { retentionPolicy: `${backup.settings.retentionDays}d`, barmanObjectStore: barmanObjectStore(backup.store, serverName, backup.settings.encryption) } } : {}),
    };
    new Manifest(this, "cluster", {
      manifest: {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name, namespace: props.zone.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
        spec,
      },
    });
    let backupFact: BackupFact | undefined;
    if (backup) {
      // Base backups on a schedule; the WAL archive is continuous (archive_command of every
      // primary, or designated primary of a replica cluster).
      new Manifest(this, "scheduled-backup", {
        manifest: {
          apiVersion: "postgresql.cnpg.io/v1",
          kind: "ScheduledBackup",
          metadata: { name: `${name}-base-backup`, namespace: props.zone.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
          spec: { schedule: backup.settings.schedule, backupOwnerReference: "self", cluster: { name }, method: "barmanObjectStore", immediate: true },
        },
      });
      const store = backup.store;
      backupFact = {
        store: `${store.site}-object-store`,
        endpoint: store.endpoint,
        bucket: store.bucket,
        site: store.site,
        country: store.country,
        serverName,
        schedule: backup.settings.schedule,
        walArchive: true,
        retentionDays: backup.settings.retentionDays,
        encryption: backup.settings.encryption,
        credentialsSecret: store.credentialsSecret,
      };
    }
    props.model.components.push({
      id: this.componentId,
      kind: "database",
      name,
      site,
      zone: props.zone.zone,
      path: this.node.path,
      runsAs: "CloudNativePG Cluster",
      image: s.image,
      replicas: s.instances,
      standby: mode.type === "replica",
      online: true,
      signing: false,
      pdb: s.instances >= 2, // the operator keeps a PDB for the primary and the replicas
      spread: s.instances >= 2,
      backup: backupFact,
      restoreFrom: backup?.primaryStore ? [{ store: `${backup.primaryStore.site}-object-store`, site: backup.primaryStore.site, serverName: primaryServerName }] : undefined,
    });
    this.connections.allowDns();
    if (backup) {
      const stores = [backup.store, ...(backup.primaryStore ? [backup.primaryStore] : [])];
      for (const store of stores) {
        const own = store === backup.store;
        this.connections.allowTo(new ExternalPeer(`${store.site}-object-store`, "object-store", [`${store.address}/32`]), store.port, {
          purpose: own
            ? `base backups and WAL archive (encrypted, kept ${backup.settings.retentionDays} days) to the object store at site ${store.site}`
            : `restore and WAL fetch from the ${store.site} site's backups (object store at site ${store.site})`,
        });
      }
    }
    if (mode.type === "replica")
      this.connections.allowTo(new ExternalPeer(`${mode.primarySite}-${name}`, "replication", [`${mode.primaryAddress}/32`]), PORT, {
        purpose: `PostgreSQL streaming replication from the ${mode.primarySite} site`,
        mtls: true,
      });
    else
      for (const r of mode.replicaSites)
        this.connections.allowFrom(new ExternalPeer(`${r.name}-${name}`, "replication", [r.podCidr]), PORT, {
          purpose: `PostgreSQL streaming replication to the ${r.name} site`,
          mtls: true,
        });
  }

  /** The Secret (in the grantee's namespace: a pod can only reference its own namespace's
   *  Secrets) holding the connection URI of the grantee zone's role. */
  private credentials(workload: HardenedWorkload, access: "rw" | "ro"): string {
    const zone = workload.props.zone.zone;
    this.roles.set(`${zone}_${access}`, access);
    const secret = `${this.name}-${zone}-${access}`;
    // The client end of mTLS: verify the server's name against its CA, and present the role's
    // client certificate (CN = the role, pg_hba clientcert=verify-full).
    workload.addEnv("PGSSLMODE", { value: "verify-full" });
    workload.addVolume("db-client-tls", DATABASE_CLIENT_TLS_DIR, { secret: `${secret}-client-tls` });
    workload.addEnv("PGSSLCERT", { value: `${DATABASE_CLIENT_TLS_DIR}/tls.crt` });
    workload.addEnv("PGSSLKEY", { value: `${DATABASE_CLIENT_TLS_DIR}/tls.key` });
    workload.addEnv("PGSSLROOTCERT", { value: `${DATABASE_CLIENT_TLS_DIR}/ca.crt` });
    return secret;
  }

  /** Lets `workload` read the CA database only. */
  grantRead(workload: HardenedWorkload): void {
    workload.addEnv("DATABASE_URL", { secret: this.credentials(workload, "ro"), key: "uri" });
    workload.connections.allowTo(this, PORT, { purpose: "CA database, read only (PostgreSQL over TLS)", mtls: true });
    this.props.model.grants.push({ kind: "database-read", resource: `database/${this.name}`, grantee: workload.componentId, path: workload.node.path });
  }

  /** Lets `workload` read and write the CA database (TLS, credentials from the operator's Secret). */
  grantReadWrite(workload: HardenedWorkload): void {
    workload.addEnv("DATABASE_URL", { secret: this.credentials(workload, "rw"), key: "uri" });
    workload.connections.allowTo(this, PORT, { purpose: "CA database (PostgreSQL over TLS)", mtls: true });
    this.props.model.grants.push({
      kind: "database-read-write",
      resource: `database/${this.name}`,
      grantee: workload.componentId,
      path: workload.node.path,
    });
  }
}

/** The backups of a database at `site`: it writes to the store at its own site; at a backup
 *  site it also reads the primary's store (restore there, WAL fetch). */
export function databaseBackup(env: Environment, site: Site, primary?: Site): DatabaseProps["backup"] {
  const b = env.database.backup;
  if (!b) return undefined;
  const located = (s: Site) => {
    const store = b.objectStores.find((o) => o.site === s.name);
    return store && { ...store, country: s.location.country };
  };
  const store = located(site);
  if (!store) return undefined;
  return { settings: b, store, primaryStore: primary ? located(primary) : undefined };
}
