/**
 * Building blocks shared by the environment definitions: the LANIC sites, trusted-role groups
 * and workload sizes. Each environment file states everything else explicitly.
 */
import type { EnvironmentInput } from "./schema.js";

type Input = EnvironmentInput;

/** LANIC primary data center, Vientiane. */
export const LANIC_LOCATION = {
  facility: "LANIC data center (Lao National Internet Center, MTC)",
  city: "Vientiane",
  country: "LA",
  latitude: 17.9757,
  longitude: 102.6331,
};

/** The backup site: a second Lao data center, outside the Vientiane flood plain. */
export const BACKUP_LOCATION = {
  facility: "LANIC backup data center",
  city: "Luang Prabang",
  country: "LA",
  latitude: 19.8856,
  longitude: 102.1347,
};

/** Trusted roles → identity-provider groups, one group per role and environment (CP/CPS 5.2.1). */
export function trustedRoleGroups(env: string): Input["roles"] {
  const g = (role: string) => [`lanic-ca-${env}:${role}`];
  return {
    "ca-chief-officer": g("ca-chief-officer"),
    "ca-system-administrator": g("ca-system-administrator"),
    "key-custodian": g("key-custodian"),
    "ia-operator": g("ia-operator"),
    "ra-operator": g("ra-operator"),
    "va-operator": g("va-operator"),
    "audit-log-inspector": g("audit-log-inspector"),
    "repository-operator": g("repository-operator"),
    "infrastructure-engineer": g("infrastructure-engineer"),
    "system-auditor": g("system-auditor"),
    "vetting-officer": g("vetting-officer"),
    "vetting-approver": g("vetting-approver"),
    "vetting-manager": g("vetting-manager"),
    "security-officer": g("security-officer"),
  };
}

/** Replicas and resources of every workload, scaled for a tier. */
export function workloadSizes(replicas: number, scale: "small" | "large"): Input["workloads"] {
  const small = { cpu: "100m", memory: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" };
  const r = (cpu: string, memory: string, cpuLimit: string) => (scale === "small" ? small : { cpu, memory, cpuLimit, memoryLimit: memory });
  return {
    repository: { replicas, resources: r("250m", "256Mi", "1") },
    // N + 1 copies of the pre-signed responses (ADR 0052): 1 Gi holds ≈ 150,000 live certificates at 2 workers.
    "ocsp-responder": { replicas, resources: r("500m", "1Gi", "2") },
    "ocsp-signer": { replicas, resources: r("250m", "256Mi", "1") },
    "ra-frontend": { replicas, resources: r("250m", "256Mi", "1") },
    ra: { replicas, resources: r("500m", "512Mi", "2") },
    "issuing-ca": { replicas, resources: r("1", "512Mi", "2") },
    "crl-publisher": { replicas, resources: r("500m", "1Gi", "2") },
    "audit-collector": { replicas, resources: r("250m", "256Mi", "1") },
    tsa: { replicas, resources: r("500m", "256Mi", "2") },
  };
}

/** Kubernetes coordinates of a site. */
export function kube(context: string, podCidr: string, server?: string) {
  return { context, configPath: "~/.kube/config", podCidr, ...(server ? { server } : {}) };
}

/** The released images, pinned by digest (staging, pilot and production run the same release;
 *  a release bump is one edit here, and a signing-image change is a high-class diff). */
export const RELEASED_IMAGES = {
  pkiServices: "registry.lanic.gov.la/lanic-ca/pki-services@sha256:4f6c1b0d2a9e8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99",
  auditCollector: "registry.lanic.gov.la/mirror/fluent-bit@sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
};

/** CloudNativePG operand (PostgreSQL 15), pinned. */
export const CNPG_POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql@sha256:1b0c9e3f5a7d2c4e6f8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d1e";

/** Thales Luna 7 HSMs (network and offline PCIe): their rating and the client library path. */
export const LUNA_CERTIFICATION = { scheme: "FIPS 140-3", level: 3, certificate: "CMVP certificate number recorded at acceptance" } as const;
export const LUNA_PKCS11_LIBRARY = "/opt/hsm/lib/libCryptoki2_64.so";
/** The Luna PCIe card's library on the offline enclave's ceremony machine (the Luna client's
 *  default install path): a different library from the online HSM client's, configured for the
 *  local card only (LCA-KEY-05). */
export const LUNA_PCIE_CEREMONY_LIBRARY = "/usr/safenet/lunaclient/lib/libCryptoki2_64.so";

/** The time sources in Laos the TSA checks its clock against (RFC 3161 2.1): LANIC's stratum-1
 *  servers (GNSS receivers) at each site. */
export const LAO_NTP_SOURCES = [
  { name: "lanic-ntp-1", address: "10.20.70.10", port: 123, country: "LA", facility: "LANIC data center, Vientiane (GNSS stratum 1)" },
  { name: "backup-ntp-1", address: "10.40.70.10", port: 123, country: "LA", facility: "LANIC backup data center, Luang Prabang (GNSS stratum 1)" },
];
/** Database backups to the S3-compatible object stores inside the LANIC sites (one per site):
 *  a base backup every night at 02:00, the WAL archive continuous, objects encrypted, kept
 *  `retentionDays` (the CP's archive period, RFC 3647 5.5.2). Credentials are Secret names. */
export function databaseBackups(env: string, retentionDays: number, stores: { site: string; endpoint: string; address: string }[]): NonNullable<Input["database"]["backup"]> {
  return {
    schedule: "0 0 2 * * *",
    retentionDays,
    encryption: "AES256",
    objectStores: stores.map((s) => ({
      ...s,
      port: 443,
      bucket: `lanic-ca-${env}-db-backups`,
      credentialsSecret: `db-backup-s3-${s.site}`,
      caSecret: "db-backup-s3-ca",
    })),
  };
}
