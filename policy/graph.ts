/**
 * The flow graph of a topology: nodes are components and external peers (per site), edges the
 * declared flows (who may open a connection to whom). Reachability is what an attacker who
 * holds a node can reach next; the network controls prove properties over it.
 */
import type { ComponentFact, Endpoint, FlowFact, TopologyJson, ZoneKind } from "../constructs/model.js";

export interface Node {
  key: string;
  label: string;
  component?: ComponentFact;
  external?: Extract<Endpoint, { type: "external" }>;
}

export interface Edge {
  from: Node;
  to: Node;
  flow: FlowFact;
}

export class FlowGraph {
  readonly nodes = new Map<string, Node>();
  readonly out = new Map<string, Edge[]>();

  constructor(readonly model: TopologyJson) {
    const components = new Map(model.components.map((c) => [c.id, c]));
    for (const f of model.flows) {
      const from = this.node(f.from, f.site, components);
      const to = this.node(f.to, f.site, components);
      const list = this.out.get(from.key) ?? [];
      list.push({ from, to, flow: f });
      this.out.set(from.key, list);
    }
  }

  private node(e: Endpoint, site: string, components: Map<string, ComponentFact>): Node {
    const key = e.type === "component" ? e.id : `${site}/external:${e.kind}:${e.name}`;
    let n = this.nodes.get(key);
    if (!n) {
      n = e.type === "component" ? { key, label: e.id, component: components.get(e.id) } : { key, label: `${e.name} (${e.kind}, site ${site})`, external: e };
      this.nodes.set(key, n);
    }
    return n;
  }

  zoneOf(n: Node): ZoneKind | "offline" | "external" {
    return n.component?.zone ?? "external";
  }

  /**
   * Breadth-first search from `sources`, not expanding nodes for which `stop` holds. Returns the
   * reached nodes with the edge that first reached each (to print the path).
   */
  reach(sources: Node[], stop: (n: Node) => boolean): Map<string, Edge | null> {
    const seen = new Map<string, Edge | null>();
    const queue: Node[] = [];
    for (const s of sources) {
      seen.set(s.key, null);
      queue.push(s);
    }
    for (let i = 0; i < queue.length; i++) {
      const n = queue[i];
      if (stop(n)) continue;
      for (const e of this.out.get(n.key) ?? [])
        if (!seen.has(e.to.key)) {
          seen.set(e.to.key, e);
          queue.push(e.to);
        }
    }
    return seen;
  }

  /** `a → b → c` from a source to `key`, following the first-reaching edges. */
  pathTo(reached: Map<string, Edge | null>, key: string): string {
    const parts = [key];
    let e = reached.get(key);
    for (let guard = 0; e && guard < 1000; guard++) {
      parts.unshift(e.from.label);
      e = reached.get(e.from.key);
    }
    return parts.map((p) => this.nodes.get(p)?.label ?? p).join(" → ");
  }
}
