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
  const r = (cpu: string, memory: string, cpuLimit: string) =>
    scale === "small" ? small : { cpu, memory, cpuLimit, memoryLimit: memory };
  return {
    repository: { replicas, resources: r("250m", "256Mi", "1") },
    "ocsp-responder": { replicas, resources: r("500m", "256Mi", "2") },
    "ocsp-signer": { replicas, resources: r("250m", "256Mi", "1") },
    "ra-frontend": { replicas, resources: r("250m", "256Mi", "1") },
    ra: { replicas, resources: r("500m", "512Mi", "2") },
    "issuing-ca": { replicas, resources: r("1", "512Mi", "2") },
    "crl-publisher": { replicas, resources: r("500m", "1Gi", "2") },
    "audit-collector": { replicas, resources: r("250m", "256Mi", "1") },
  };
}

/** Kubernetes coordinates of a site. */
export function kube(context: string, podCidr: string) {
  return { context, configPath: "~/.kube/config", podCidr };
}
