import { Construct } from "constructs";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1/index.js";
import type { Endpoint, TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";

/** Something with a network identity inside the cluster: a workload or a database. */
export interface IConnectable {
  readonly connections: Connections;
}

/** A peer outside the cluster, reached or admitted by address (NetworkPolicy `ipBlock`). Every
 *  flow to or from one becomes a row of the firewall matrix for LANIC's physical firewalls. */
export class ExternalPeer {
  constructor(
    readonly name: string,
    readonly kind: Extract<Endpoint, { type: "external" }>["kind"],
    readonly cidrs: string[],
  ) {
    if (cidrs.length === 0) throw new Error(`external peer '${name}' has no address`);
  }
  endpoint(): Endpoint {
    return { type: "external", name: this.name, kind: this.kind, cidrs: [...this.cidrs].sort() };
  }
}

export interface FlowOptions {
  /** Why this flow exists (shown in the firewall matrix and in diffs). */
  readonly purpose: string;
  /** The flow is mutually authenticated TLS. @default false */
  readonly mtls?: boolean;
  /** @default "TCP" */
  readonly protocol?: "TCP" | "UDP";
}

export interface ConnectionsProps {
  readonly model: TopologyModel;
  /** `<site>/<name>` of the owner. */
  readonly componentId: string;
  readonly name: string;
  readonly zone: Zone;
  /** Labels that select the owner's pods. */
  readonly podLabels: Record<string, string>;
  /** Pod network of the owner's site (source of outbound firewall rows). */
  readonly podCidr: string;
}

const DNS = new ExternalPeer("cluster-dns", "cluster-dns", ["kube-system/kube-dns"]);

/**
 * Intent-level network API (cdk8s-plus PodConnections, aws-cdk Connections): `a.connections
 * .allowTo(b, port)` writes the egress policy on a's side and the ingress policy on b's side,
 * and records the flow in the topology model, where the policy checks prove reachability.
 */
export class Connections {
  constructor(
    private readonly owner: Construct,
    readonly props: ConnectionsProps,
  ) {}

  get site(): string {
    return this.props.zone.site;
  }

  private selector() {
    return {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": this.props.zone.namespace } },
      podSelector: { matchLabels: this.props.podLabels },
    };
  }

  private unique(scope: Construct, id: string, what: string): void {
    if (scope.node.tryFindChild(id))
      throw new Error(`${scope.node.path}: flow ${what} is declared twice`);
  }

  /** Allows this component to open connections to `target` on `port`. */
  allowTo(target: IConnectable | ExternalPeer, port: number, options: FlowOptions): void {
    const protocol = options.protocol ?? "TCP";
    const from: Endpoint = { type: "component", id: this.props.componentId };
    if (target instanceof ExternalPeer) {
      const id = `egress-${target.name}-${protocol.toLowerCase()}${port}`;
      this.unique(this.owner, id, `${this.props.componentId} → ${target.name}:${port}`);
      const to =
        target.kind === "cluster-dns"
          ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }]
          : target.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
      new NetworkPolicyV1(this.owner, id, {
        metadata: { name: `${this.props.name}-to-${target.name}-${protocol.toLowerCase()}${port}`, namespace: this.props.zone.namespace },
        spec: {
          podSelector: { matchLabels: this.props.podLabels },
          policyTypes: ["Egress"],
          egress: [{ to, ports: [{ port: String(port), protocol }] }],
        },
      });
      this.record(from, target.endpoint(), port, protocol, options, this.owner.node.path);
      if (target.kind !== "cluster-dns")
        for (const cidr of target.cidrs)
          this.props.model.firewall.push({
            site: this.site,
            direction: "outbound",
            source: `${this.props.podCidr} (${this.props.componentId})`,
            destination: `${cidr} (${target.name})`,
            port,
            protocol,
            purpose: options.purpose,
          });
      return;
    }
    const peer = target.connections;
    if (peer.site !== this.site)
      throw new Error(
        `${this.owner.node.path}: flow to ${peer.props.componentId} crosses sites (${this.site} → ${peer.site}); declare it to an ExternalPeer (the other site's address)`,
      );
    const egressId = `egress-${peer.props.name}-${protocol.toLowerCase()}${port}`;
    this.unique(this.owner, egressId, `${this.props.componentId} → ${peer.props.componentId}:${port}`);
    new NetworkPolicyV1(this.owner, egressId, {
      metadata: { name: `${this.props.name}-to-${peer.props.name}-${port}`, namespace: this.props.zone.namespace },
      spec: {
        podSelector: { matchLabels: this.props.podLabels },
        policyTypes: ["Egress"],
        egress: [{ to: [peer.selector()], ports: [{ port: String(port), protocol }] }],
      },
    });
    new NetworkPolicyV1(peer.owner, `ingress-${this.props.name}-${protocol.toLowerCase()}${port}`, {
      metadata: { name: `${peer.props.name}-from-${this.props.name}-${port}`, namespace: peer.props.zone.namespace },
      spec: {
        podSelector: { matchLabels: peer.props.podLabels },
        policyTypes: ["Ingress"],
        ingress: [{ from: [this.selector()], ports: [{ port: String(port), protocol }] }],
      },
    });
    this.record(from, { type: "component", id: peer.props.componentId }, port, protocol, options, this.owner.node.path);
  }

  /** Admits connections from a peer outside the cluster on `port`. */
  allowFrom(source: ExternalPeer, port: number, options: FlowOptions): void {
    const protocol = options.protocol ?? "TCP";
    const id = `ingress-${source.name}-${protocol.toLowerCase()}${port}`;
    this.unique(this.owner, id, `${source.name} → ${this.props.componentId}:${port}`);
    new NetworkPolicyV1(this.owner, id, {
      metadata: { name: `${this.props.name}-from-${source.name}-${port}`, namespace: this.props.zone.namespace },
      spec: {
        podSelector: { matchLabels: this.props.podLabels },
        policyTypes: ["Ingress"],
        ingress: [{ from: source.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ port: String(port), protocol }] }],
      },
    });
    this.record(source.endpoint(), { type: "component", id: this.props.componentId }, port, protocol, options, this.owner.node.path);
    for (const cidr of source.cidrs)
      this.props.model.firewall.push({
        site: this.site,
        direction: "inbound",
        source: `${cidr} (${source.name})`,
        destination: `${this.props.podCidr} (${this.props.componentId})`,
        port,
        protocol,
        purpose: options.purpose,
      });
  }

  /** Name resolution through the cluster DNS (UDP and TCP 53). */
  allowDns(): void {
    this.allowTo(DNS, 53, { purpose: "DNS", protocol: "UDP" });
    this.allowTo(DNS, 53, { purpose: "DNS", protocol: "TCP" });
  }

  private record(from: Endpoint, to: Endpoint, port: number, protocol: "TCP" | "UDP", options: FlowOptions, path: string) {
    this.props.model.flows.push({ from, to, port, protocol, mtls: options.mtls ?? false, purpose: options.purpose, site: this.site, path });
  }
}
