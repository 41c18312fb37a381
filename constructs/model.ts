/**
 * The normalised topology model: the facts every construct records about itself (zones, flows,
 * keys, HSMs, grants, roles, schedules). Policy checks and `lanic-ca diff` read this model, not
 * resource names. `toJSON()` is stable: sorted, no construct-order dependence, so two synths of
 * the same input give byte-identical `topology/<env>.json`.
 */
import type { Profile as ProfileContent } from "@lanic-ca/pki-services/config/schema";
import type { HsmCertification, KeyAlgorithm, Tier, TrustedRole, WorkloadKind } from "../environments/schema.js";

export const ZONE_KINDS = ["public", "government", "ra", "issuing", "timestamping", "hsm", "database", "audit", "management"] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

/** The CA's high-security zones (NCSSR 1.2.2), the offline root included: a flow into one is
 *  reachable-from-outside evidence for the policy and needs two people in the review diff. */
export const PROTECTED_ZONES: ReadonlySet<string> = new Set<ZoneKind | "offline">(["issuing", "timestamping", "hsm", "database", "offline"]);

export type ComponentKind = WorkloadKind | "database" | "audit-integrity-check" | "hsm" | "offline-root";

export interface HardeningFact {
  runAsNonRoot: boolean;
  readOnlyRootFilesystem: boolean;
  allowPrivilegeEscalation: boolean;
  capabilitiesDropAll: boolean;
  seccompRuntimeDefault: boolean;
  automountServiceAccountToken: boolean;
  resourcesSet: boolean;
  imageByDigest: boolean;
  /** Explicit opt-outs, each with its reason (they show in a diff). */
  optOuts: { prop: string; reason: string }[];
}

export interface ComponentFact {
  /** `<site>/<name>`, unique in an environment. */
  id: string;
  kind: ComponentKind;
  name: string;
  site: string;
  zone: ZoneKind | "offline";
  /** Construct path (evidence in reports). */
  path: string;
  /** Kubernetes resource kind that runs it. */
  runsAs: "Deployment" | "CronJob" | "CloudNativePG Cluster" | "external" | "none";
  image?: string;
  /** pki-services role argument, when the image is pki-services. */
  role?: string;
  replicas: number;
  /** A warm standby at the backup site (scaled up by the failover runbook). */
  standby: boolean;
  /** Serves requests continuously (as opposed to a scheduled job). */
  online: boolean;
  /** Uses a CA or OCSP key. */
  signing: boolean;
  /** Meant to be reached from the internet: the repository, the OCSP responder and the RA's
   *  applicant pages only. Anything else reachable from the internet is a finding (LCA-NET-06)
   *  and a high-class change in the review. Absent: not meant to. */
  internetFacing?: true;
  pdb: boolean;
  spread: boolean;
  hardening?: HardeningFact;
  /** Issuing CA this component serves, if any. */
  ca?: string;
  schedule?: string;
  /** A database's backups (CloudNativePG barmanObjectStore): base backups on `schedule`, the
   *  WAL archive, kept `retentionDays`, encrypted, in the object store at `store`'s site. */
  backup?: BackupFact;
  /** Object stores holding another cluster's backups that this database can restore or fetch
   *  WAL from (the backup site's replica reads the primary's store). */
  restoreFrom?: { store: string; site: string; serverName: string }[];
}

export interface BackupFact {
  /** Object store peer name, `<site>-object-store`. */
  store: string;
  endpoint: string;
  bucket: string;
  /** The site whose building holds the store, and its country (data residency). */
  site: string;
  country: string;
  /** Folder of this cluster's backups in the bucket (barman serverName). */
  serverName: string;
  schedule: string;
  walArchive: boolean;
  retentionDays: number;
  encryption: string;
  /** Secret names only (never their content). */
  credentialsSecret: string;
}

export interface ZoneFact {
  id: string; // <site>/<zone>
  zone: ZoneKind;
  site: string;
  namespace: string;
  defaultDeny: boolean;
  path: string;
}

export type Endpoint =
  | { type: "component"; id: string }
  | {
      type: "external";
      /** What is out there: a network HSM, the internet, the government network, the audit sink,
       *  the other site's replication endpoint, the cluster DNS, a backup object store. */
      name: string;
      kind: "hsm" | "internet" | "government-network" | "audit-sink" | "replication" | "cluster-dns" | "object-store" | "ntp";
      cidrs: string[];
    };

export interface FlowFact {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: "TCP" | "UDP";
  mtls: boolean;
  purpose: string;
  site: string;
  /** Construct path of the NetworkPolicies it produced. */
  path: string;
}

export interface KeyFact {
  label: string;
  purpose: "root" | "issuing-ca" | "ocsp-signing" | "time-stamping";
  ca: string;
  algorithm: KeyAlgorithm;
  location: { type: "hsm-partition"; hsm: string; partition: string; tokenLabel: string } | { type: "offline-enclave"; hsm: string };
}

export interface HsmFact {
  name: string;
  type: "network" | "softhsm" | "offline";
  vendor: string;
  model: string;
  certification: HsmCertification;
  /** The PKCS#11 library that reaches it: in the signing containers (online) or on the enclave's
   *  ceremony machine (offline root). */
  pkcs11Library: string;
  /** How it is reached: network appliances, a local card or USB token, a software token. */
  attachment: "network" | "pcie" | "usb" | "software";
  /** The offline HSM's address if it is (wrongly) a network appliance. */
  address?: string;
  members: { name: string; site: string; address: string; port: number }[];
  /** Partitions (PKCS#11 tokens); the offline root's is its one root partition, activated by
   *  the custodians' quorum (no PIN Secret: `pinSecret` null). */
  partitions: { name: string; tokenLabel: string; serialNumber?: string; pinSecret: string | null; keys: string[] }[];
  path: string;
}

export interface GrantFact {
  kind: "hsm-sign" | "database-read-write" | "database-read";
  /** `partition/<name>` + key label, or `database/<cluster>`. */
  resource: string;
  key?: string;
  grantee: string;
  path: string;
}

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface RoleFact {
  role: TrustedRole;
  groups: string[];
  bindings: { site: string; zone: ZoneKind; namespace: string; rules: RbacRule[] }[];
}

export interface ScheduleFact {
  kind: "crl" | "ocsp" | "audit-integrity" | "ca-crl";
  ca?: string;
  /** How often the job runs / responses are refreshed. */
  intervalHours: number;
  /** Validity of what it produces (CRL nextUpdate, OCSP response validity). */
  validityHours?: number;
  path: string;
}

export interface FirewallRow {
  site: string;
  direction: "inbound" | "outbound";
  source: string;
  destination: string;
  port: number;
  protocol: "TCP" | "UDP";
  purpose: string;
}

export interface EnvironmentFact {
  name: string;
  tier: Tier;
  rootOfTrust: "offline" | "external";
  cpCpsVersion: string;
  sites: {
    name: string;
    role: "primary" | "backup";
    country: string;
    city: string;
    latitude: number;
    longitude: number;
    /** The cluster the site's stack is applied to: kubeconfig file and context, and the API
     *  server when recorded (its identity). */
    cluster?: { configPath: string; context: string; server?: string };
  }[];
  continuity: { rpoMinutes: number; rtoHours: number };
  auditLog: { sink: string; retentionDays: number; integrityCheckIntervalDays: number };
  /** What the topology publishes: the repository's base URL (CA certificates under /certs/,
   *  CRLs under /crl/) and the VA's OCSP URL (BR 7.1.2.7, RFC 5280 4.2.1.13, 4.2.2.1). */
  publication: { repositoryBaseUrl: string; ocspUrl: string };
  /** The offline root's ceremony parameters, as synth renders them into the ceremony files
   *  (scripts/ceremony/render.ts): the policy checks them against the ceremony limits (LCA-CER-01). */
  ceremonies?: {
    rootKeyAlgorithm: string;
    rootValidityDays: number;
    intermediates: { ca: string; keyAlgorithm: string; validityDays: number; pathLen?: number }[];
  };
  cas: {
    name: string;
    type: "root" | "issuing";
    /** The CA certificate's subject, as relying parties read it (CN, O). */
    subject?: { CN: string; O: string };
    /** The URLs its certificates carry: CRL distribution point, AIA caIssuers and, for an issuing
     *  CA with OCSP, AIA OCSP (and the URLs in the certificates it signs for its subscribers). */
    urls?: { crl: string; caIssuers: string; ocsp?: string };
    keyAlgorithm: KeyAlgorithm;
    validityDays?: number;
    maxValidityDays?: number;
    custodians?: { quorum: number; total: number };
    /** `content`: the profile as the CA issues under it (the LCA-PRF controls read it). */
    profiles: { name: string; kind: string; maxValidityDays: number; allowedKeyAlgorithms?: string[]; content?: ProfileContent }[];
    ocsp?: boolean;
  }[];
  /** The time-stamping authority (RFC 3161), when the environment runs one. */
  tsa?: {
    name: string;
    ca: string;
    profile: string;
    /** The profile's certificate content as the policy checks it (RFC 3161 2.3). */
    certificate: { kind: string; extendedKeyUsage: string[]; keyUsage: string[] };
    policyOid: string;
    accuracyMicros: number;
    key: { partition: string; label: string; algorithm: KeyAlgorithm };
    ntp: { name: string; address: string; port: number; country: string; facility: string }[];
  };
}

export interface TopologyJson {
  environment: EnvironmentFact;
  zones: ZoneFact[];
  components: ComponentFact[];
  flows: FlowFact[];
  hsms: HsmFact[];
  keys: KeyFact[];
  grants: GrantFact[];
  roles: RoleFact[];
  schedules: ScheduleFact[];
  firewall: FirewallRow[];
}

const endpointKey = (e: Endpoint) => (e.type === "component" ? `c:${e.id}` : `x:${e.kind}:${e.name}`);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const by =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    cmp(key(a), key(b));

/** Collects facts during construction; one per environment (held by CaTopology). */
export class TopologyModel {
  environment!: EnvironmentFact;
  readonly zones: ZoneFact[] = [];
  readonly components: ComponentFact[] = [];
  readonly flows: FlowFact[] = [];
  readonly hsms: HsmFact[] = [];
  readonly keys: KeyFact[] = [];
  readonly grants: GrantFact[] = [];
  readonly roles: RoleFact[] = [];
  readonly schedules: ScheduleFact[] = [];
  readonly firewall: FirewallRow[] = [];

  component(id: string): ComponentFact | undefined {
    return this.components.find((c) => c.id === id);
  }

  /** The stable, sorted form written to `topology/<env>.json`. */
  toJSON(): TopologyJson {
    const roles = this.roles.map((r) => ({
      ...r,
      groups: [...r.groups].sort(),
      bindings: [...r.bindings].sort(by((b) => `${b.site}/${b.zone}`)),
    }));
    return {
      environment: this.environment,
      zones: [...this.zones].sort(by((z) => z.id)),
      components: [...this.components].sort(by((c) => c.id)),
      flows: [...this.flows].sort(by((f) => `${f.site} ${endpointKey(f.from)} ${endpointKey(f.to)} ${f.protocol}${String(f.port).padStart(5, "0")}`)),
      hsms: [...this.hsms].sort(by((h) => h.name)),
      keys: [...this.keys].sort(by((k) => `${k.purpose} ${k.label}`)),
      grants: [...this.grants].sort(by((g) => `${g.kind} ${g.resource} ${g.key ?? ""} ${g.grantee}`)),
      roles: roles.sort(by((r) => r.role)),
      schedules: [...this.schedules].sort(by((s) => `${s.kind} ${s.ca ?? ""} ${s.path}`)),
      firewall: [...this.firewall].sort(by((r) => `${r.site} ${r.direction} ${r.source} ${r.destination} ${r.port}`)),
    };
  }
}

/** Stable JSON text: object keys sorted recursively, two-space indent, trailing newline. */
export function stableStringify(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sortKeys(x);
      }
      return out;
    }
    return v;
  };
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}
