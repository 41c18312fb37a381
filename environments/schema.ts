/**
 * The typed, strictly validated definition of one CA environment. Everything the topology,
 * the policy checks, the ceremonies and the signing services know about an environment comes
 * from one object of this shape (environments/<env>.ts).
 *
 * Strict: unknown keys are rejected at every level, and cross-field references (a profile, a
 * partition, a site, a key named somewhere) must resolve. Control limits (key sizes, validity,
 * quorum sizes, CRL intervals...) are NOT enforced here but by the CP/CPS policy checks in
 * policy/, so that a violating environment still synthesizes into a model the checks can judge.
 */
import { z } from "zod";
import { CrlSchedule, KeyAlgorithm, OcspSchedule, Profile } from "@lanic-ca/pki-services/config/schema";

export { KeyAlgorithm, Profile };

const Name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lower-case DNS label (a-z, 0-9, '-')")
  .max(40);
/** One IPv4 octet, 0 to 255, without leading zeros. */
const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = `${OCTET}(\\.${OCTET}){3}`;
/** The address part of a CIDR has no bit set past the prefix (10.20.0.5/24 is a host, not a network). */
function hostBitsClear(cidr: string): boolean {
  const [addr, len] = cidr.split("/");
  const n = addr.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(len));
  return n % size === 0;
}
const Cidr = z
  .string()
  .regex(new RegExp(`^${IPV4}\\/(\\d|[12]\\d|3[0-2])$`), "an IPv4 CIDR with octets 0-255, e.g. 10.20.0.0/24")
  .refine(hostBitsClear, { message: "host bits are set past the prefix: write the network address (e.g. 10.20.0.0/24, not 10.20.0.5/24)", abort: true });
const Ipv4 = z.string().regex(new RegExp(`^${IPV4}$`), "an IPv4 address with octets 0-255, e.g. 10.20.10.11");
/** An http or https URL with a host, no credentials (what certificates and browsers are given). */
const HttpUrl = z
  .url({ protocol: /^https?$/, hostname: /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i, error: "an http:// or https:// URL with a host name, e.g. https://ra.ca.gov.la" })
  .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { message: "no user name or password in the URL" });
const Port = z.number().int().min(1).max(65535);
const Quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, "a Kubernetes quantity, e.g. 500m or 512Mi");
const Oid = z.string().regex(/^[0-2](\.(0|[1-9][0-9]*))+$/, "an OID in dotted form");
/** An image reference. Outside dev the policy requires a digest (`@sha256:`). */
const Image = z.string().regex(/^[a-z0-9.\-/:]+(@sha256:[a-f0-9]{64})?$/, "an image reference, e.g. registry/name@sha256:<64 hex>");

export const TIERS = ["dev", "staging", "production"] as const;
export const Tier = z.enum(TIERS);
export type Tier = z.infer<typeof Tier>;

/** A distinguished name for a CA certificate (RFC 5280 4.1.2.4; BR 7.1.4.3). */
export const CaSubject = z.strictObject({
  CN: z.string().min(1).max(64),
  O: z.string().min(1).max(64),
  C: z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code, e.g. LA"),
  OU: z.string().min(1).max(64).optional(),
});
export type CaSubject = z.infer<typeof CaSubject>;

export const Site = z.strictObject({
  name: Name,
  role: z.enum(["primary", "backup"]),
  location: z.strictObject({
    facility: z.string().min(1),
    city: z.string().min(1),
    /** ISO 3166-1 alpha-2. Data residency: production sites must be in LA. */
    country: z.string().regex(/^[A-Z]{2}$/),
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
  }),
  kubernetes: z.strictObject({
    /** kubeconfig context Terraform uses for this site. */
    context: z.string().min(1),
    /** The API server of the site's cluster (the kubeconfig cluster's `server`): the cluster's
     *  identity, since two contexts can name one cluster. Required outside dev by the policy
     *  (LCA-CLU-01: sites on different clusters, tiers never sharing one). */
    server: z.url().optional(),
    /** kubeconfig path on the operator's machine. @default "~/.kube/config" */
    configPath: z.string().min(1).default("~/.kube/config"),
    /** Pod network of this site's cluster (the backup site's replication source, firewall rows). */
    podCidr: Cidr,
  }),
});
export type Site = z.infer<typeof Site>;

export const HsmCertification = z.discriminatedUnion("scheme", [
  z.strictObject({ scheme: z.literal("FIPS 140-2"), level: z.number().int().min(1).max(4), certificate: z.string().min(1) }),
  z.strictObject({ scheme: z.literal("FIPS 140-3"), level: z.number().int().min(1).max(4), certificate: z.string().min(1) }),
  z.strictObject({
    scheme: z.literal("Common Criteria"),
    /** Evaluation assurance level, e.g. "EAL4+". */
    level: z.string().regex(/^EAL[1-7]\+?$/),
    certificate: z.string().min(1),
  }),
  /** SoftHSM2: a software token, for dev only (the policy refuses it elsewhere). */
  z.strictObject({ scheme: z.literal("none") }),
]);
export type HsmCertification = z.infer<typeof HsmCertification>;

export const KeyPurpose = z.enum(["issuing-ca", "ocsp-signing", "time-stamping"]);
export const HsmKey = z.strictObject({
  /** CKA_LABEL of the key pair in the partition. */
  label: z.string().min(1).max(64),
  purpose: KeyPurpose,
  /** Name of the issuing CA the key belongs to (for a time-stamping key: the CA that certifies
   *  the TSA). */
  ca: Name,
  algorithm: KeyAlgorithm,
});
export type HsmKey = z.infer<typeof HsmKey>;

export const HsmPartition = z.strictObject({
  name: Name,
  /** PKCS#11 token label of the partition. */
  tokenLabel: z.string().min(1).max(32),
  /** Name of the Kubernetes Secret (created out of band) holding the partition PIN in key `pin`. */
  pinSecret: Name,
  /** PKCS#11 token serial number of the partition (CK_TOKEN_INFO.serialNumber), when known: the
   *  policy proves the offline root's token is none of these (LCA-KEY-05). */
  serialNumber: z.string().min(1).max(16).optional(),
  keys: z.array(HsmKey),
});

export const HsmCluster = z.strictObject({
  type: z.enum(["network", "softhsm"]),
  vendor: z.string().min(1),
  model: z.string().min(1),
  certification: HsmCertification,
  /** Path of the vendor PKCS#11 library inside the signing containers (mounted at run time). */
  pkcs11Library: z.string().startsWith("/"),
  /** Secret (created out of band) with the HSM client certificate and key (NTLS/mTLS to the appliances). */
  clientCertificateSecret: Name,
  members: z.array(
    z.strictObject({
      name: Name,
      site: Name,
      address: Ipv4,
      port: Port,
    }),
  ),
  partitions: z.array(HsmPartition).min(1),
});
export type HsmCluster = z.infer<typeof HsmCluster>;

export const Custodian = z.strictObject({
  id: Name,
  name: z.string().min(1),
});

export const OfflineRoot = z.strictObject({
  type: z.literal("offline"),
  name: Name,
  subject: CaSubject,
  keyAlgorithm: KeyAlgorithm,
  keyLabel: z.string().min(1),
  /** Validity of the self-signed root certificate in days (BR 7.1.2.1.1 / MRSP 7.2 limits). */
  validityDays: z.number().int().positive(),
  /** Validity given to intermediate (issuing CA) certificates the root signs, in days. */
  intermediateValidityDays: z.number().int().positive(),
  /** nextUpdate of the root's CRL of CA certificates, in days (BR 4.9.7: ≤ 12 months). */
  caCrlNextUpdateDays: z.number().int().positive(),
  /** The offline HSM (air-gapped, in the enclave). */
  hsm: z.strictObject({
    vendor: z.string().min(1),
    model: z.string().min(1),
    certification: HsmCertification,
    /** Path of the PKCS#11 library on the enclave's ceremony machine: the local card's library,
     *  never the online HSM client's (LCA-KEY-05). */
    pkcs11Library: z.string().startsWith("/"),
    /** Token label of the root partition. */
    tokenLabel: z.string().min(1).max(32),
    /** PKCS#11 token serial number of the root partition (CK_TOKEN_INFO.serialNumber), recorded at
     *  acceptance: the policy proves it is no online partition (LCA-KEY-05). */
    serialNumber: z.string().min(1).max(16),
    /** How the HSM is attached to the ceremony machine: a local card or USB token, a software
     *  token (dev), or a network appliance — which an offline root must not be (NCSSR 1.2.1,
     *  LCA-KEY-05). */
    attachment: z.enum(["pcie", "usb", "software", "network"]),
    /** The appliance's address, when `attachment` is "network". */
    address: Ipv4.optional(),
  }),
  /** Multi-person control (BR 5.2.2, 6.2.2): M of N custodians open the offline HSM. */
  custodians: z.strictObject({
    quorum: z.number().int().positive(),
    members: z.array(Custodian).min(1),
  }),
  /** Where the enclave is, by site name (it is in a site's building, never on its network). */
  site: Name,
  // No root OCSP responder: the status of the intermediates is the root's CA CRL, signed in the
  // ca-crl ceremony (BR 4.9.7, 7.1.2.10.3: id-ad-ocsp MAY); docs/adr/0072.
});
export type OfflineRoot = z.infer<typeof OfflineRoot>;

export const ExternalRoot = z.strictObject({
  type: z.literal("external"),
  name: Name,
  /** The external, already-trusted root's subject and its certificate's SHA-256 fingerprint. */
  subject: CaSubject,
  certificateSha256: z.string().regex(/^[a-f0-9]{64}$/, "64 lower-case hex digits"),
  /** Organisation that operates the external root (the pilot's commercial CA). */
  operator: z.string().min(1),
  /** The key custodians who hold, M of N, the wrapping key of the issuing CA keys' backup
   *  (BR 5.2.2, 5.7.1.1 (11); ADR 0082). Without them no key backup is rendered. */
  custodians: z
    .strictObject({
      quorum: z.number().int().positive(),
      members: z.array(Custodian).min(1),
    })
    .optional(),
});
export type ExternalRoot = z.infer<typeof ExternalRoot>;

export const RootOfTrust = z.discriminatedUnion("type", [OfflineRoot, ExternalRoot]);
export type RootOfTrust = z.infer<typeof RootOfTrust>;

export const IssuingCa = z.strictObject({
  name: Name,
  subject: CaSubject,
  keyAlgorithm: KeyAlgorithm,
  /** Partition and label of the CA key (must be a key of purpose issuing-ca for this CA). */
  partition: Name,
  keyLabel: z.string().min(1),
  /** Profiles this CA issues under (names in `profiles`). */
  profiles: z.array(Name).min(1),
  /** Maximum validity of any certificate this CA issues, in days (CP/CPS 6.3.2). */
  maxValidityDays: z.number().int().positive(),
  crl: CrlSchedule,
  ocsp: OcspSchedule.extend({
    /** Partition and label of the delegated OCSP signing key (RFC 6960 4.2.2.2). */
    partition: Name,
    keyLabel: z.string().min(1),
  }),
});
export type IssuingCa = z.infer<typeof IssuingCa>;

export const Resources = z.strictObject({
  cpu: Quantity,
  memory: Quantity,
  cpuLimit: Quantity,
  memoryLimit: Quantity,
});
export type Resources = z.infer<typeof Resources>;

export const WorkloadSize = z.strictObject({
  replicas: z.number().int().min(0),
  resources: Resources,
});
export type WorkloadSize = z.infer<typeof WorkloadSize>;

export const WORKLOAD_KINDS = ["repository", "ocsp-responder", "ocsp-signer", "ra-frontend", "ra", "issuing-ca", "crl-publisher", "audit-collector", "tsa"] as const;
export const WorkloadKind = z.enum(WORKLOAD_KINDS);
export type WorkloadKind = z.infer<typeof WorkloadKind>;

// The trusted roles in roles.ts (no zod there: the policy checks read them on the main thread).
import { TRUSTED_ROLES } from "./roles.js";
export { TRUSTED_ROLES };
export const TrustedRole = z.enum(TRUSTED_ROLES);
export type TrustedRole = z.infer<typeof TrustedRole>;

/** An NTP server the TSA checks its clock against (RFC 3161 2.1; inside Laos, like all
 *  authentication data: the mission's data-residency rule). */
export const NtpSource = z.strictObject({
  name: Name,
  address: Ipv4,
  port: Port.default(123),
  /** Where it is (ISO 3166-1 alpha-2 country and the facility): the policy requires LA. */
  country: z.string().regex(/^[A-Z]{2}$/),
  facility: z.string().min(1),
});
export type NtpSource = z.infer<typeof NtpSource>;

/** The time-stamping authority (RFC 3161) for signed e-Office documents. */
export const TimeStamping = z.strictObject({
  name: Name,
  /** URL relying parties send time-stamp requests to (RFC 3161 3.4, plain http like OCSP). */
  url: z.url(),
  /** The issuing CA that certifies the TSA, and the profile (kind time-stamping) it issues under. */
  ca: Name,
  profile: Name,
  /** Partition and label of the TSA's own key (purpose time-stamping). */
  partition: Name,
  keyLabel: z.string().min(1),
  keyAlgorithm: KeyAlgorithm,
  /** TSA policy OID in every token (TSTInfo.policy), from the CP arc. No default. */
  policyOid: Oid,
  /** Declared accuracy (RFC 3161 2.4.2). No default: the TSA practice statement decides. */
  accuracy: z.strictObject({
    seconds: z.number().int().min(0).default(0),
    millis: z.number().int().min(0).max(999).default(0),
    micros: z.number().int().min(0).max(999).default(0),
  }),
  ntp: z.strictObject({ sources: z.array(NtpSource).min(1) }),
});
export type TimeStamping = z.infer<typeof TimeStamping>;

const Group = z.string().regex(/^[a-z0-9][-a-z0-9:.]*$/, "an identity-provider group name");

/** An S3-compatible object store inside a site (data residency: the information on which
 *  authentication rests stays in Lao facilities). */
export const ObjectStore = z.strictObject({
  /** The site (a name in `sites`) whose building holds the store. */
  site: Name,
  /** S3 endpoint, e.g. https://s3.lanic.gov.la. */
  endpoint: HttpUrl,
  /** Address of the endpoint (NetworkPolicy egress, firewall matrix row). */
  address: Ipv4,
  port: Port,
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name (3-63 of a-z, 0-9, '.', '-')"),
  /** Secret (created out of band, in the database's namespace) with keys ACCESS_KEY_ID and
   *  ACCESS_SECRET_KEY; the IaC names it only. */
  credentialsSecret: Name,
  /** Secret with the TLS CA certificate of the store's endpoint, in key `ca.crt`. */
  caSecret: Name,
});
export type ObjectStore = z.infer<typeof ObjectStore>;

export const DatabaseBackup = z.strictObject({
  /** Base backups (CloudNativePG ScheduledBackup): six-field cron, seconds first. */
  schedule: z.string().regex(/^\S+( \S+){5}$/, "a six-field cron expression (seconds first), e.g. '0 0 2 * * *'"),
  /** How long base backups and WAL are kept, in days: at least the CP's archive period
   *  (RFC 3647 5.5.2; BR 5.5.2). No default: the CP decides. */
  retentionDays: z.number().int().positive(),
  /** Server-side encryption of every base backup and WAL object. */
  encryption: z.enum(["AES256", "aws:kms"]),
  /** One store per site that runs a database. */
  objectStores: z.array(ObjectStore).min(1),
});
export type DatabaseBackup = z.infer<typeof DatabaseBackup>;

export const Environment = z.strictObject({
  name: Name,
  tier: Tier,
  description: z.string().min(1),
  /** The CP/CPS this environment implements (policy OIDs in certificates point at it). */
  cpCps: z.strictObject({
    version: z.string().regex(/^\d+\.\d+(\.\d+)?$/),
    policyOid: Oid,
    url: HttpUrl,
  }),
  sites: z.array(Site).min(1),
  images: z.strictObject({
    /** The signing services image (images/pki-services). */
    pkiServices: Image,
    /** The audit log collector (e.g. Fluent Bit). */
    auditCollector: Image,
  }),
  hsm: HsmCluster,
  rootOfTrust: RootOfTrust,
  issuingCas: z.array(IssuingCa).min(1),
  profiles: z.record(Name, Profile),
  ra: z.strictObject({
    /** URL of the RA web form on the government network. */
    url: HttpUrl,
    /** Government networks allowed to reach the RA front end (firewall matrix rows). */
    governmentNetworks: z.array(Cidr).min(1),
    /** Maximum rows in one bulk CSV upload. */
    bulkUploadMaxRows: z.number().int().positive(),
  }),
  va: z.strictObject({
    /** OCSP URL placed in certificates' AIA (RFC 5280 4.2.2.1). */
    url: HttpUrl,
  }),
  /** The time-stamping authority. Absent: the environment runs none. */
  tsa: TimeStamping.optional(),
  repository: z.strictObject({
    /** Base URL: CA certificates at <base>/certs/<ca>.der, CRLs at <base>/crl/<ca>.crl. */
    baseUrl: HttpUrl.refine((u) => !/[?#]/.test(u), { message: "a base URL without query or fragment: <base>/certs/<ca>.der and <base>/crl/<ca>.crl are appended to it" }),
  }),
  database: z.strictObject({
    /** PostgreSQL instances per site (CloudNativePG). */
    instances: z.number().int().min(1),
    storageSize: Quantity,
    storageClass: z.string().min(1),
    /** CloudNativePG operand image, pinned. */
    image: Image,
    /** Per site: where the other sites' replica clusters stream from while that site is the
     *  primary (a LoadBalancer IP in its server network), for the CA database and the RA's
     *  store. Required for the primary when there is a backup site, and for a backup site to
     *  fail over to it (`lanic-ca failover`, docs/runbooks/failover.md). */
    replicationAddresses: z.record(Name, z.strictObject({ ca: Ipv4, ra: Ipv4, /** the TSA's store, with a TSA */ tsa: Ipv4.optional() })).optional(),
    /** Backups of every database (CloudNativePG barmanObjectStore): scheduled base backups and
     *  continuous WAL archiving, for point-in-time recovery (docs/runbooks/failover.md). Each
     *  site's clusters write to the object store at that site; the backup site's replicas also
     *  read the primary's store, so they can be restored there. No default: absent, nothing is
     *  backed up (policy LCA-BCP-03 refuses that outside dev). */
    backup: DatabaseBackup.optional(),
  }),
  auditLog: z.strictObject({
    sink: z.strictObject({
      type: z.enum(["syslog-tls"]),
      address: Ipv4,
      port: Port,
    }),
    /** Retention of audit records in days (BR 5.4.3: ≥ 2 years; our CP: ≥ 7 years in production). */
    retentionDays: z.number().int().positive(),
    /** How often the hash chain is verified, in days (NCSSR 3.1.2: at least every 31 days). */
    integrityCheckIntervalDays: z.number().int().positive(),
  }),
  /** Trusted roles → identity-provider groups (CP/CPS 5.2). */
  roles: z.partialRecord(TrustedRole, z.array(Group).min(1)),
  workloads: z.partialRecord(WorkloadKind, WorkloadSize),
  /** Business continuity (BR 5.7.1.1): recovery point and time objectives. */
  continuity: z.strictObject({
    rpoMinutes: z.number().int().positive(),
    rtoHours: z.number().positive(),
  }),
});
export type Environment = z.infer<typeof Environment>;
export type EnvironmentInput = z.input<typeof Environment>;

/** Cross-field references that a flat schema cannot express. */
export function referenceProblems(env: Environment): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const siteNames = env.sites.map((s) => s.name);
  const dup = <T>(items: T[]) => items.filter((x, i) => items.indexOf(x) !== i);
  for (const d of dup(siteNames)) out.push({ path: ["sites"], message: `site '${d}' is defined twice` });
  // one cluster per site: two sites on one kubeconfig context would apply both sites' stacks to one cluster
  for (const d of new Set(dup(env.sites.map((s) => `${s.kubernetes.configPath}\u0000${s.kubernetes.context}`)))) {
    const [, ctx] = d.split("\u0000");
    const same = env.sites.filter((s) => s.kubernetes.context === ctx).map((s) => `'${s.name}'`);
    out.push({ path: ["sites"], message: `sites ${same.join(" and ")} share the kubeconfig context '${ctx}': each site is its own cluster` });
  }
  if (env.sites.filter((s) => s.role === "primary").length !== 1) out.push({ path: ["sites"], message: `exactly one site must have role 'primary' (found ${env.sites.filter((s) => s.role === "primary").length})` });
  if (env.hsm.type === "network" && env.hsm.members.length === 0) out.push({ path: ["hsm", "members"], message: "a network HSM cluster needs at least one member (name, site, address, port)" });
  if (env.hsm.type === "softhsm" && env.hsm.members.length > 0) out.push({ path: ["hsm", "members"], message: "a SoftHSM token lives inside the signing pods: no network members allowed" });
  env.hsm.members.forEach((m, i) => {
    if (!siteNames.includes(m.site)) out.push({ path: ["hsm", "members", i, "site"], message: `unknown site '${m.site}'; defined: ${siteNames.join(", ")}` });
  });
  const partitions = new Map(env.hsm.partitions.map((p) => [p.name, p]));
  for (const d of dup(env.hsm.partitions.map((p) => p.name))) out.push({ path: ["hsm", "partitions"], message: `partition '${d}' is defined twice` });
  const caNames = env.issuingCas.map((c) => c.name);
  for (const d of dup(caNames)) out.push({ path: ["issuingCas"], message: `issuing CA '${d}' is defined twice` });
  for (const [i, p] of env.hsm.partitions.entries())
    for (const [j, k] of p.keys.entries()) if (!caNames.includes(k.ca)) out.push({ path: ["hsm", "partitions", i, "keys", j, "ca"], message: `unknown issuing CA '${k.ca}'; defined: ${caNames.join(", ")}` });
  const checkKey = (path: (string | number)[], partition: string, label: string, purpose: string, ca: string) => {
    const p = partitions.get(partition);
    if (!p) {
      out.push({ path: [...path, "partition"], message: `unknown HSM partition '${partition}'; defined: ${[...partitions.keys()].join(", ")}` });
      return;
    }
    const key = p.keys.find((k) => k.label === label);
    if (!key) out.push({ path: [...path, "keyLabel"], message: `no key '${label}' in partition '${partition}'` });
    else if (key.purpose !== purpose || key.ca !== ca)
      out.push({ path: [...path, "keyLabel"], message: `key '${label}' in partition '${partition}' is declared for ${key.purpose} of '${key.ca}', not ${purpose} of '${ca}'` });
  };
  env.issuingCas.forEach((ca, i) => {
    checkKey(["issuingCas", i], ca.partition, ca.keyLabel, "issuing-ca", ca.name);
    if (ca.ocsp.enabled) checkKey(["issuingCas", i, "ocsp"], ca.ocsp.partition, ca.ocsp.keyLabel, "ocsp-signing", ca.name);
    const key = partitions.get(ca.partition)?.keys.find((k) => k.label === ca.keyLabel);
    if (key && key.algorithm !== ca.keyAlgorithm) out.push({ path: ["issuingCas", i, "keyAlgorithm"], message: `${ca.keyAlgorithm} differs from the HSM key '${ca.keyLabel}' (${key.algorithm})` });
    ca.profiles.forEach((p, j) => {
      // own keys only: 'constructor' or 'toString' are not profiles
      if (!Object.hasOwn(env.profiles, p)) out.push({ path: ["issuingCas", i, "profiles", j], message: `unknown profile '${p}'; defined: ${Object.keys(env.profiles).join(", ")}` });
    });
  });
  if (env.rootOfTrust.type === "offline") {
    const r = env.rootOfTrust;
    if (!siteNames.includes(r.site)) out.push({ path: ["rootOfTrust", "site"], message: `unknown site '${r.site}'; defined: ${siteNames.join(", ")}` });
    if (r.custodians.quorum > r.custodians.members.length)
      out.push({ path: ["rootOfTrust", "custodians", "quorum"], message: `quorum ${r.custodians.quorum} is larger than the ${r.custodians.members.length} custodians` });
    if (r.hsm.attachment === "network" && !r.hsm.address)
      out.push({ path: ["rootOfTrust", "hsm", "address"], message: "required when attachment is 'network': the appliance's address (the policy then refuses it: an offline root is reachable by no network, LCA-KEY-05)" });
    if (r.hsm.attachment !== "network" && r.hsm.address) out.push({ path: ["rootOfTrust", "hsm", "address"], message: `only with attachment 'network' (this HSM is attached by ${r.hsm.attachment})` });
    for (const d of dup(r.custodians.members.map((m) => m.id))) out.push({ path: ["rootOfTrust", "custodians", "members"], message: `custodian '${d}' is listed twice` });
  }
  const primarySite = env.sites.find((s) => s.role === "primary")?.name;
  if (env.sites.some((s) => s.role === "backup") && primarySite && !env.database.replicationAddresses?.[primarySite])
    out.push({ path: ["database", "replicationAddresses"], message: `required with a backup site: the addresses at the primary site '${primarySite}' the replica clusters stream from ({ ${primarySite}: { ca, ra } })` });
  for (const site of Object.keys(env.database.replicationAddresses ?? {}))
    if (!siteNames.includes(site)) out.push({ path: ["database", "replicationAddresses", site], message: `unknown site '${site}'; defined: ${siteNames.join(", ")}` });
  const backup = env.database.backup;
  if (backup) {
    backup.objectStores.forEach((o, i) => {
      if (!siteNames.includes(o.site)) out.push({ path: ["database", "backup", "objectStores", i, "site"], message: `unknown site '${o.site}'; defined: ${siteNames.join(", ")}` });
    });
    for (const d of dup(backup.objectStores.map((o) => o.site))) out.push({ path: ["database", "backup", "objectStores"], message: `site '${d}' has two object stores; one per site` });
    for (const s of siteNames)
      if (!backup.objectStores.some((o) => o.site === s)) out.push({ path: ["database", "backup", "objectStores"], message: `no object store at site '${s}': every site's databases back up to a store in that site` });
  }
  if (env.tsa) {
    const t = env.tsa;
    if (!caNames.includes(t.ca)) out.push({ path: ["tsa", "ca"], message: `unknown issuing CA '${t.ca}'; defined: ${caNames.join(", ")}` });
    else if (!env.issuingCas.find((c) => c.name === t.ca)!.profiles.includes(t.profile))
      out.push({ path: ["tsa", "profile"], message: `issuing CA '${t.ca}' does not issue under profile '${t.profile}'; it issues: ${env.issuingCas.find((c) => c.name === t.ca)!.profiles.join(", ")}` });
    if (env.profiles[t.profile] && env.profiles[t.profile].kind !== "time-stamping")
      out.push({ path: ["tsa", "profile"], message: `profile '${t.profile}' is of kind ${env.profiles[t.profile].kind}, not time-stamping` });
    checkKey(["tsa"], t.partition, t.keyLabel, "time-stamping", t.ca);
    const key = partitions.get(t.partition)?.keys.find((k) => k.label === t.keyLabel);
    if (key && key.algorithm !== t.keyAlgorithm) out.push({ path: ["tsa", "keyAlgorithm"], message: `${t.keyAlgorithm} differs from the HSM key '${t.keyLabel}' (${key.algorithm})` });
    if (t.accuracy.seconds + t.accuracy.millis + t.accuracy.micros === 0) out.push({ path: ["tsa", "accuracy"], message: "an accuracy of zero cannot be met: declare seconds, millis or micros" });
    for (const [site, a] of Object.entries(env.database.replicationAddresses ?? {}))
      if (!a.tsa) out.push({ path: ["database", "replicationAddresses", site, "tsa"], message: `required with a TSA: the address at site '${site}' the TSA store's replicas stream from` });
  }
  const needed: z.infer<typeof WorkloadKind>[] = ["repository", "ra-frontend", "ra", "issuing-ca", "crl-publisher", "audit-collector"];
  if (env.issuingCas.some((c) => c.ocsp.enabled)) needed.push("ocsp-responder", "ocsp-signer");
  if (env.tsa) needed.push("tsa");
  for (const k of needed) if (!env.workloads[k]) out.push({ path: ["workloads", k], message: `missing: the size of the '${k}' workload (replicas and resources)` });
  return out;
}
