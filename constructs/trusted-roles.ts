import { ClusterRoleV1, Construct, RoleBindingV1 } from "./cdktf.js";
import type { Environment, TrustedRole } from "../environments/schema.js";
import type { RbacRule, TopologyModel, ZoneKind } from "./model.js";
import type { Zone } from "./zone.js";

const READ = ["get", "list", "watch"];
const core = (resources: string[], verbs: string[]): RbacRule => ({ apiGroups: [""], resources, verbs });
const apps = (resources: string[], verbs: string[]): RbacRule => ({ apiGroups: ["apps"], resources, verbs });
const ALL_ZONES: ZoneKind[] = ["public", "government", "ra", "issuing", "timestamping", "hsm", "database", "audit", "management"];
const observe: RbacRule[] = [core(["pods", "services", "configmaps", "events"], READ), apps(["deployments"], READ), { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: READ }];

/**
 * The Kubernetes powers of each trusted role (CP/CPS 5.2.1, from the source documents), per zone.
 * Nobody may `exec` into a signing pod or read a Secret: PINs and keys are never readable
 * through the cluster API. Key custodians and the vetting roles act outside Kubernetes
 * (ceremonies, the RA application), so they hold no cluster power.
 */
export const ROLE_POWERS: Partial<Record<TrustedRole, { zones: ZoneKind[]; rules: RbacRule[] }[]>> = {
  // Keeps the HSM PINs and client credentials: may create and rotate (not read) the Secrets.
  "ca-system-administrator": [{ zones: ["issuing", "timestamping", "hsm", "database"], rules: [core(["secrets"], ["create", "update", "patch"]), ...observe] }],
  // Activates/deactivates CA and VA keys, starts/stops the CA system, database backup/restore.
  "ia-operator": [
    { zones: ["issuing", "timestamping"], rules: [apps(["deployments", "deployments/scale"], ["get", "list", "watch", "patch", "update"]), core(["pods", "pods/log"], READ)] },
    {
      zones: ["database"],
      rules: [
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch"] },
        { apiGroups: ["postgresql.cnpg.io"], resources: ["backups"], verbs: ["create", "get", "list"] },
      ],
    },
  ],
  // Certificate policy settings of the RA, RA service operation.
  "ra-operator": [
    {
      zones: ["ra", "government"],
      rules: [core(["configmaps"], ["get", "list", "watch", "update", "patch"]), apps(["deployments", "deployments/scale"], ["get", "list", "watch", "patch"]), core(["pods", "pods/log"], READ)],
    },
  ],
  // VA (OCSP) certificate settings.
  "va-operator": [{ zones: ["public"], rules: [apps(["deployments", "deployments/scale"], ["get", "list", "watch", "patch"]), core(["pods", "pods/log"], READ)] }],
  "repository-operator": [{ zones: ["public"], rules: [core(["configmaps"], ["get", "list", "watch", "update", "patch"]), apps(["deployments"], ["get", "list", "watch", "patch"]), core(["pods"], READ)] }],
  // Reviews the IA and RA audit logs: read-only, everywhere logs are.
  "audit-log-inspector": [{ zones: ALL_ZONES, rules: [core(["pods", "pods/log"], READ)] }],
  // Installs and maintains the CA system: full power in management, observation elsewhere.
  "infrastructure-engineer": [
    { zones: ["management"], rules: [core(["pods", "pods/log", "pods/exec", "services", "configmaps"], ["*"]), apps(["deployments"], ["*"])] },
    { zones: ALL_ZONES.filter((z) => z !== "management"), rules: observe },
  ],
  "system-auditor": [
    {
      zones: ALL_ZONES,
      rules: [...observe, { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ }, { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: READ }],
    },
  ],
  "security-officer": [
    {
      zones: ALL_ZONES,
      rules: [
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: READ },
      ],
    },
  ],
  "ca-chief-officer": [{ zones: ALL_ZONES, rules: observe }],
};

export interface TrustedRolesProps {
  readonly model: TopologyModel;
  readonly env: Environment;
  readonly site: string;
  readonly zones: Record<ZoneKind, Zone>;
}

/**
 * The trusted roles of one site as RBAC: one ClusterRole per (role, set of powers) and a
 * RoleBinding in each zone where the role holds those powers, to the environment's groups. A
 * RoleBinding to a ClusterRole grants its rules in that namespace only.
 */
export class TrustedRoles extends Construct {
  constructor(scope: Construct, id: string, props: TrustedRolesProps) {
    super(scope, id);
    for (const [role, groups] of Object.entries(props.env.roles) as [TrustedRole, string[]][]) {
      const powers = ROLE_POWERS[role] ?? [];
      let fact = props.model.roles.find((r) => r.role === role);
      if (!fact) {
        fact = { role, groups: [...groups], bindings: [] };
        props.model.roles.push(fact);
      }
      powers.forEach((power, i) => {
        const clusterRole = `lanic-ca:${role}${powers.length > 1 ? `:${i + 1}` : ""}`;
        new ClusterRoleV1(this, `${role}-${i + 1}`, {
          metadata: { name: clusterRole, labels: { "lanic-ca.gov.la/trusted-role": role } },
          rule: power.rules.map((r) => ({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs })),
        });
        for (const zoneKind of power.zones) {
          const zone = props.zones[zoneKind];
          new RoleBindingV1(this, `${role}-${zoneKind}-binding`, {
            metadata: { name: `lanic-ca-${role}`, namespace: zone.namespace, labels: { "lanic-ca.gov.la/trusted-role": role } },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
            subject: groups.map((g) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: g })),
          });
          fact.bindings.push({ site: props.site, zone: zoneKind, namespace: zone.namespace, rules: power.rules });
        }
      });
    }
  }
}
