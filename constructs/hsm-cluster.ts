import { ConfigMapV1, Construct, EndpointsV1, ServiceV1 } from "./cdktf.js";
import type { HsmCluster as HsmClusterDef } from "../environments/schema.js";
import { ExternalPeer } from "./connections.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import type { TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";
import { ConstructError } from "./errors.js";

export interface HsmClusterProps {
  readonly model: TopologyModel;
  /** The HSM cluster of the environment (vendor, certification, members, partitions). */
  readonly definition: HsmClusterDef;
}

/** Where SoftHSM2 keeps its token files inside dev pods (a PVC shared by the signing pods). */
export const SOFTHSM_TOKEN_DIR = "/var/lib/softhsm/tokens";

/** Where a partition's PIN Secret is mounted (read-only, key `pin`): the services read the PIN
 *  from this file (hsm.pinFile), never from an environment variable (/proc/<pid>/environ). */
export function pinFilePath(partition: string): string {
  return `/etc/lanic-ca/hsm-pin/${partition}/pin`;
}

/**
 * The environment's HSM cluster: network appliances (Thales Luna and the like) reached by
 * address, or in dev a SoftHSM2 token inside the signing pods. Keys never leave it; workloads
 * get the right to use a partition's key through `partition(name).grantSign(workload, key)`,
 * which mounts the PKCS#11 client configuration and the PIN Secret reference, opens the flow
 * to the appliances of the workload's site, and records the grant for the policy checks.
 */
export class HsmCluster extends Construct {
  readonly definition: HsmClusterDef;
  private readonly model: TopologyModel;
  private readonly siteResources = new Map<string, true>();

  constructor(scope: Construct, id: string, props: HsmClusterProps) {
    super(scope, id);
    this.definition = props.definition;
    this.model = props.model;
    const d = props.definition;
    props.model.hsms.push({
      name: "online",
      type: d.type,
      vendor: d.vendor,
      model: d.model,
      certification: d.certification,
      pkcs11Library: d.pkcs11Library,
      attachment: d.type === "softhsm" ? "software" : "network",
      members: d.members.map((m) => ({ ...m })),
      partitions: d.partitions.map((p) => ({ name: p.name, tokenLabel: p.tokenLabel, serialNumber: p.serialNumber, pinSecret: p.pinSecret, keys: p.keys.map((k) => k.label) })),
      path: this.node.path,
    });
    for (const p of d.partitions)
      for (const k of p.keys)
        props.model.keys.push({
          label: k.label,
          purpose: k.purpose,
          ca: k.ca,
          algorithm: k.algorithm,
          location: { type: "hsm-partition", hsm: "online", partition: p.name, tokenLabel: p.tokenLabel },
        });
  }

  /** The appliances at a site, as a peer outside the cluster. */
  membersAt(site: string): ExternalPeer | undefined {
    const members = this.definition.members.filter((m) => m.site === site);
    if (members.length === 0) return undefined;
    return new ExternalPeer(
      "hsm",
      "hsm",
      members.map((m) => `${m.address}/32`),
    );
  }

  /** Creates, in a site's HSM zone, the Service + Endpoints that name the appliances of that site
   *  (or, in dev, the SoftHSM client configuration). Idempotent per site. */
  addSite(scope: Construct, hsmZone: Zone, issuingZone: Zone): void {
    if (this.siteResources.has(hsmZone.site)) return;
    this.siteResources.set(hsmZone.site, true);
    const d = this.definition;
    if (d.type === "softhsm") {
      new ConfigMapV1(scope, "softhsm-conf", {
        metadata: { name: "softhsm-conf", namespace: issuingZone.namespace },
        data: { "softhsm2.conf": `directories.tokendir = ${SOFTHSM_TOKEN_DIR}\nobjectstore.backend = file\nlog.level = INFO\n` },
      });
      return;
    }
    const members = d.members.filter((m) => m.site === hsmZone.site);
    if (members.length === 0) return;
    const port = members[0].port;
    new ServiceV1(scope, "hsm-service", {
      metadata: { name: "hsm", namespace: hsmZone.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
      spec: { port: [{ name: "ntls", port, targetPort: String(port), protocol: "TCP" }] },
    });
    new EndpointsV1(scope, "hsm-endpoints", {
      metadata: { name: "hsm", namespace: hsmZone.namespace },
      subset: [{ address: members.map((m) => ({ ip: m.address })), port: [{ name: "ntls", port, protocol: "TCP" }] }],
    });
  }

  partition(name: string): HsmPartition {
    const p = this.definition.partitions.find((x) => x.name === name);
    if (!p) throw new ConstructError(`no partition '${name}'; defined: ${this.definition.partitions.map((x) => x.name).join(", ")}`, this);
    return new HsmPartition(
      this,
      p.name,
      p.tokenLabel,
      p.pinSecret,
      p.keys.map((k) => k.label),
      this.model,
    );
  }
}

/** One partition (PKCS#11 token) of the HSM cluster. */
export class HsmPartition {
  constructor(
    readonly cluster: HsmCluster,
    readonly name: string,
    readonly tokenLabel: string,
    readonly pinSecret: string,
    readonly keyLabels: string[],
    private readonly model: TopologyModel,
  ) {}

  /** Lets `workload` sign with the key `keyLabel` of this partition. */
  grantSign(workload: HardenedWorkload, keyLabel: string): void {
    if (!this.keyLabels.includes(keyLabel)) throw new ConstructError(`partition '${this.name}' holds no key '${keyLabel}'; it holds: ${this.keyLabels.join(", ")}`, workload);
    const d = this.cluster.definition;
    workload.addVolume(`hsm-pin-${this.name}`, pinFilePath(this.name).replace(/\/pin$/, ""), { secret: this.pinSecret });
    if (d.type === "softhsm") {
      workload.addEnv("SOFTHSM2_CONF", { value: "/etc/softhsm/softhsm2.conf" });
      workload.addVolume("softhsm-conf", "/etc/softhsm", { configMap: "softhsm-conf" });
      workload.addVolume("softhsm-tokens", SOFTHSM_TOKEN_DIR, { pvc: "softhsm-tokens" }, false);
    } else {
      // The vendor client library is mounted at run time from a read-only volume that LANIC
      // provisions with the vendor's package; the client certificate comes from a Secret.
      workload.addVolume("hsm-client-library", "/opt/hsm", { pvc: "hsm-client-library" });
      workload.addVolume("hsm-client-cert", "/etc/hsm/client", { secret: d.clientCertificateSecret });
      // No member at the workload's site (a backup site without an HSM appliance): no flow, and
      // the grant is still recorded, so the policy reports it (LCA-HSM-04, LCA-BCP-01) instead
      // of synth stopping here.
      const peer = this.cluster.membersAt(workload.connections.site);
      if (peer && !workload.connections.allows(peer, d.members[0].port)) workload.connections.allowTo(peer, d.members[0].port, { purpose: `PKCS#11 (NTLS) to the HSM appliances`, mtls: true });
    }
    this.model.grants.push({
      kind: "hsm-sign",
      resource: `partition/${this.name}`,
      key: keyLabel,
      grantee: workload.componentId,
      path: workload.node.path,
    });
  }
}
