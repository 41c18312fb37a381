import { type Construct, NetworkPolicyV1, Token } from "./cdktf.js";
import type { Endpoint, TopologyModel } from "./model.js";
import { produced } from "./produced.js";
import type { Zone } from "./zone.js";
import { ConstructError } from "./errors.js";

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

/** A NetworkPolicy peer or port list entry, in the provider's Terraform (snake_case) form. */
type TfPeer = Record<string, unknown>;
type TfRule = { peers: TfPeer[]; port: number; protocol: "TCP" | "UDP" };

/**
 * Intent-level network API (cdk8s-plus PodConnections, aws-cdk Connections): `a.connections
 * .allowTo(b, port)` adds an egress rule to a's policy and an ingress rule to b's policy, and
 * records the flow in the topology model, where the policy checks prove reachability. Each
 * component gets one NetworkPolicy, `<name>-allow`, holding all its rules (on top of its zone's
 * default-deny), so an operator reads one object per workload.
 */
export class Connections {
  private policy?: { egress: TfRule[]; ingress: TfRule[] };
  private readonly declared = new Set<string>();

  constructor(
    private readonly owner: Construct,
    readonly props: ConnectionsProps,
  ) {}

  get site(): string {
    return this.props.zone.site;
  }

  private selector(): TfPeer {
    return {
      namespace_selector: { match_labels: { "kubernetes.io/metadata.name": this.props.zone.namespace } },
      pod_selector: { match_labels: this.props.podLabels },
    };
  }

  /** This component's NetworkPolicy, created with its first rule. */
  private rules(): { egress: TfRule[]; ingress: TfRule[] } {
    if (this.policy) return this.policy;
    const policy = (this.policy = { egress: [] as TfRule[], ingress: [] as TfRule[] });
    const render = (rules: TfRule[], side: "to" | "from") => rules.map((r) => ({ [side]: r.peers, ports: [{ port: String(r.port), protocol: r.protocol }] }));
    new NetworkPolicyV1(this.owner, "allow", {
      metadata: { name: `${this.props.name}-allow`, namespace: this.props.zone.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
      spec: {
        podSelector: { matchLabels: this.props.podLabels },
        policyTypes: Token.asList(produced(() => [...(policy.ingress.length ? ["Ingress"] : []), ...(policy.egress.length ? ["Egress"] : [])])),
        egress: produced(() => render(policy.egress, "to")) as never,
        ingress: produced(() => render(policy.ingress, "from")) as never,
      },
    });
    return policy;
  }

  private declare(what: string): void {
    if (this.declared.has(what)) throw new ConstructError(`flow ${what} is declared twice`, this.owner);
    this.declared.add(what);
  }

  /** Allows this component to open connections to `target` on `port`. */
  allowTo(target: IConnectable | ExternalPeer, port: number, options: FlowOptions): void {
    const protocol = options.protocol ?? "TCP";
    const from: Endpoint = { type: "component", id: this.props.componentId };
    if (target instanceof ExternalPeer) {
      this.declare(`${this.props.componentId} → ${target.name}:${port}${protocol === "UDP" ? "/udp" : ""}`);
      const peers =
        target.kind === "cluster-dns"
          ? [{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "kube-system" } }, pod_selector: { match_labels: { "k8s-app": "kube-dns" } } }]
          : target.cidrs.map((cidr) => ({ ip_block: { cidr } }));
      this.rules().egress.push({ peers, port, protocol });
      this.record(from, target.endpoint(), port, protocol, options);
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
    if (peer.site !== this.site) throw new ConstructError(`flow to ${peer.props.componentId} crosses sites (${this.site} → ${peer.site}); declare it to an ExternalPeer (the other site's address)`, this.owner);
    this.declare(`${this.props.componentId} → ${peer.props.componentId}:${port}`);
    this.rules().egress.push({ peers: [peer.selector()], port, protocol });
    peer.rules().ingress.push({ peers: [this.selector()], port, protocol });
    this.record(from, { type: "component", id: peer.props.componentId }, port, protocol, options);
  }

  /** Admits connections from a peer outside the cluster on `port`. */
  allowFrom(source: ExternalPeer, port: number, options: FlowOptions): void {
    const protocol = options.protocol ?? "TCP";
    this.declare(`${source.name} → ${this.props.componentId}:${port}`);
    this.rules().ingress.push({ peers: source.cidrs.map((cidr) => ({ ip_block: { cidr } })), port, protocol });
    this.record(source.endpoint(), { type: "component", id: this.props.componentId }, port, protocol, options);
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

  /** Whether a flow to `target` on `port` is already declared. */
  allows(target: IConnectable | ExternalPeer, port: number): boolean {
    const name = target instanceof ExternalPeer ? target.name : target.connections.props.componentId;
    return this.declared.has(`${this.props.componentId} → ${name}:${port}`);
  }

  private record(from: Endpoint, to: Endpoint, port: number, protocol: "TCP" | "UDP", options: FlowOptions) {
    // The policy that carries the rule: `<owner>/allow` (evidence for the policy checks).
    this.props.model.flows.push({ from, to, port, protocol, mtls: options.mtls ?? false, purpose: options.purpose, site: this.site, path: this.owner.node.path });
  }
}
