import { Construct, NamespaceV1, NetworkPolicyV1 } from "./cdktf.js";
import type { TopologyModel, ZoneKind } from "./model.js";

export interface ZoneProps {
  /** The kind of zone (NCSSR 1.1.1: systems segmented by function and trust). */
  readonly zone: ZoneKind;
  /** Site name, e.g. "lanic". */
  readonly site: string;
  readonly model: TopologyModel;
}

export const ZONE_LABEL = "lanic-ca.gov.la/zone";

/** The namespace of a zone: `lanic-ca-<zone>`. */
export function zoneNamespace(zone: ZoneKind): string {
  return `lanic-ca-${zone}`;
}

/**
 * A network zone: one namespace that starts isolated. A default-deny NetworkPolicy selects every
 * pod for ingress and egress; only flows declared through `connections.allowTo` open it
 * (NCSSR 1.1.1 (b), 1.2.2: deny by default, allow only what is needed).
 */
export class Zone extends Construct {
  readonly zone: ZoneKind;
  readonly site: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: ZoneProps) {
    super(scope, id);
    this.zone = props.zone;
    this.site = props.site;
    this.namespace = zoneNamespace(props.zone);
    new NamespaceV1(this, "namespace", {
      metadata: {
        name: this.namespace,
        labels: {
          [ZONE_LABEL]: props.zone,
          "app.kubernetes.io/part-of": "lanic-ca",
          // Pod Security Admission: "restricted" enforced on every zone.
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    });
    new NetworkPolicyV1(this, "default-deny", {
      metadata: { name: "default-deny", namespace: this.namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    props.model.zones.push({
      id: `${props.site}/${props.zone}`,
      zone: props.zone,
      site: props.site,
      namespace: this.namespace,
      defaultDeny: true,
      path: this.node.path,
    });
  }
}
