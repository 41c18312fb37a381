/**
 * Topology diagrams: the normalised model → Graphviz DOT → SVG (Graphviz as WASM, no system
 * package). One picture per environment: sites as frames, zones as boxes inside them,
 * components inside their zone, allowed flows as arrows labelled with ports; the HSMs and the
 * offline root enclave drawn apart. A diff diagram draws the union of two models and marks what
 * was added (green), removed (red) and changed (amber).
 *
 * Deterministic: everything is sorted before it is written, so the same model gives the same
 * DOT and Graphviz gives the same SVG bytes.
 */
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import type { ComponentFact, Endpoint, FlowFact, HsmFact, TopologyJson } from "../constructs/model.js";
import { flowKey } from "./diff.js";

type Status = "same" | "added" | "removed" | "changed";

const STATUS_COLOR: Record<Status, string> = { same: "#333333", added: "#1a7f37", removed: "#cf222e", changed: "#d4a017" };
const STATUS_FILL: Record<Status, string> = { same: "#ffffff", added: "#dafbe1", removed: "#ffebe9", changed: "#fff4c2" };

const ZONE_STYLE: Record<string, { fill: string; title: string }> = {
  public: { fill: "#e8f1fb", title: "public zone" },
  government: { fill: "#e6f4ea", title: "government zone" },
  ra: { fill: "#e0f2f1", title: "RA zone" },
  issuing: { fill: "#fde8e8", title: "issuing zone (protected)" },
  hsm: { fill: "#fff3cd", title: "HSM zone (protected)" },
  database: { fill: "#f1e8fb", title: "database zone (protected)" },
  audit: { fill: "#eeeeee", title: "audit zone" },
  management: { fill: "#f6f6f6", title: "management zone" },
};
const ZONE_ORDER = ["public", "government", "ra", "issuing", "hsm", "database", "audit", "management"];

const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
/** A quoted DOT string of several lines. */
const ql = (lines: string[]) => `"${lines.map(esc).join("\\n")}"`;
const id = (...parts: string[]) => q(parts.join(":"));
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Node { key: string; site: string | null; zone: string | null; label: string; attrs: string; status: Status }
interface Edge { from: string; to: string; labels: Set<string>; status: Status[]; kind: "normal" | "audit" | "hsm" | "replication" | "inbound" }

function hsmLabel(h: HsmFact, site: string): string {
  const cert = h.certification.scheme === "none" ? "software token (dev only)" : `${h.certification.scheme} L${h.certification.level}`;
  const members = h.members.filter((m) => m.site === site).map((m) => `${m.name} ${m.address}:${m.port}`);
  const parts = h.partitions.map((p) => `partition ${p.name}: ${p.keys.length} key${p.keys.length === 1 ? "" : "s"}`);
  return [`HSM ${h.vendor} ${h.model}`, cert, ...(members.length ? members : h.type === "softhsm" ? ["SoftHSM inside the signing pods"] : ["no member at this site"]), ...parts].join("\\n");
}

function componentLabel(c: ComponentFact): string {
  const lines = [c.name, `${c.runsAs === "none" ? "" : `${c.runsAs} `}${c.runsAs === "Deployment" || c.runsAs === "CloudNativePG Cluster" ? `×${c.replicas}` : c.schedule ?? ""}`.trim()];
  if (c.standby) lines.push("warm standby");
  if (c.signing) lines.push("signs (HSM key)");
  return lines.filter(Boolean).join("\\n");
}

/** Builds the DOT text. `before` given: a diff diagram of `before` → `after`. */
export function topologyDot(after: TopologyJson, before?: TopologyJson): string {
  const env = after.environment;
  const diff = !!before;
  const sites = [...new Map([...(before?.environment.sites ?? []), ...env.sites].map((s) => [s.name, s])).values()]
    .sort((a, b) => (a.role === b.role ? cmp(a.name, b.name) : a.role === "primary" ? -1 : 1));
  const nodes = new Map<string, Node>();
  const compStatus = (c: ComponentFact): Status => {
    if (!before) return "same";
    const b = before.components.find((x) => x.id === c.id);
    const a = after.components.find((x) => x.id === c.id);
    if (!b) return "added";
    if (!a) return "removed";
    return JSON.stringify(a) === JSON.stringify(b) ? "same" : "changed";
  };
  const allComps = [...new Map([...(before?.components ?? []), ...after.components].map((c) => [c.id, c])).values()];
  // Prefer the after version of a component for its label.
  for (const c of allComps) {
    const cur = after.components.find((x) => x.id === c.id) ?? c;
    const status = compStatus(cur);
    if (cur.kind === "offline-root") continue;
    const shape = cur.kind === "database" ? "cylinder" : "box";
    const style = `${shape === "box" ? "rounded," : ""}filled${cur.standby ? ",dashed" : ""}`;
    const pen = cur.signing ? 2 : 1;
    nodes.set(`c:${cur.id}`, {
      key: id("c", cur.id),
      site: cur.site,
      zone: cur.zone,
      label: componentLabel(cur),
      attrs: `shape=${shape}, style=${q(style)}, penwidth=${status === "same" ? pen : 2.5}, color=${q(diff ? STATUS_COLOR[status] : cur.signing ? "#8b0000" : "#333333")}, fillcolor=${q(STATUS_FILL[status])}`,
      status,
    });
  }
  // HSM nodes, one per site, inside the site's HSM zone.
  const hsmsAfter = after.hsms.filter((h) => h.type !== "offline");
  const hsmsBefore = (before?.hsms ?? []).filter((h) => h.type !== "offline");
  for (const site of sites)
    for (const h of [...new Map([...hsmsBefore, ...hsmsAfter].map((h) => [h.name, h])).values()]) {
      const a = hsmsAfter.find((x) => x.name === h.name), b = hsmsBefore.find((x) => x.name === h.name);
      const cur = a ?? h;
      const status: Status = !diff ? "same" : !b ? "added" : !a ? "removed" : JSON.stringify(hsmLabel(a, site.name)) === JSON.stringify(hsmLabel(b, site.name)) && JSON.stringify(a.certification) === JSON.stringify(b.certification) ? "same" : "changed";
      nodes.set(`hsm:${site.name}:${h.name}`, {
        key: id("hsm", site.name, h.name),
        site: site.name,
        zone: "hsm",
        label: hsmLabel(cur, site.name),
        attrs: `shape=box3d, style=filled, penwidth=2, color=${q(diff ? STATUS_COLOR[status] : "#7a5c00")}, fillcolor=${q(diff && status !== "same" ? STATUS_FILL[status] : "#ffd966")}`,
        status,
      });
    }

  // Edges: merged per (from node, to node); DNS left out (every pod may resolve names).
  const edges = new Map<string, Edge>();
  const comps = (t: TopologyJson) => new Map(t.components.map((c) => [c.id, c]));
  const nodeFor = (e: Endpoint, f: FlowFact, t: TopologyJson): { key: string; kind: Edge["kind"] } | null => {
    if (e.type === "component") return { key: `c:${e.id}`, kind: "normal" };
    if (e.kind === "cluster-dns") return null;
    if (e.kind === "hsm") {
      const h = t.hsms.find((x) => x.type !== "offline");
      return { key: `hsm:${f.site}:${h?.name ?? "online"}`, kind: "hsm" };
    }
    if (e.kind === "replication") {
      const peer = t.components.find((c) => c.kind === "database" && c.site !== f.site);
      if (peer) return { key: `c:${peer.id}`, kind: "replication" };
    }
    const key = `x:${e.kind}:${e.name}`;
    if (!nodes.has(key)) {
      const title = e.kind === "internet" ? "Internet" : e.kind === "government-network" ? "Government network" : e.kind === "audit-sink" ? "Audit log sink (SIEM)" : e.name;
      nodes.set(key, { key: id("x", e.kind, e.name), site: null, zone: null, label: `${title}\\n${e.cidrs.join(", ")}`, attrs: `shape=note, style=filled, fillcolor="#f0f0f0", color="#555555"`, status: "same" });
    }
    return { key, kind: e.kind === "internet" || e.kind === "government-network" ? "inbound" : "normal" };
  };
  const addFlows = (t: TopologyJson, status: (f: FlowFact) => Status | null) => {
    const cm = comps(t);
    for (const f of [...t.flows].sort((x, y) => cmp(flowKey(x), flowKey(y)))) {
      const st = status(f);
      if (st === null) continue;
      const from = nodeFor(f.from, f, t), to = nodeFor(f.to, f, t);
      if (!from || !to) continue;
      const audit = f.to.type === "component" && cm.get(f.to.id)?.kind === "audit-collector";
      const kind: Edge["kind"] = audit ? "audit" : from.kind === "replication" || to.kind === "replication" ? "replication" : to.kind === "hsm" ? "hsm" : from.kind === "inbound" ? "inbound" : "normal";
      const k = `${from.key} ${to.key}`;
      const e = edges.get(k) ?? { from: from.key, to: to.key, labels: new Set<string>(), status: [], kind };
      e.labels.add(`${f.port}${f.protocol === "UDP" ? "/udp" : ""}${f.mtls ? " mTLS" : ""}`);
      e.status.push(st);
      edges.set(k, e);
    }
  };
  if (before) {
    const bf = new Map(before.flows.map((f) => [flowKey(f), f]));
    const af = new Map(after.flows.map((f) => [flowKey(f), f]));
    addFlows(after, (f) => (!bf.has(flowKey(f)) ? "added" : JSON.stringify(bf.get(flowKey(f))) !== JSON.stringify(f) ? "changed" : "same"));
    addFlows(before, (f) => (af.has(flowKey(f)) ? null : "removed"));
  } else addFlows(after, () => "same");

  // --- write DOT
  const out: string[] = [];
  const title = diff
    ? `${env.name}: topology changes (green added, red removed, amber changed)`
    : `${env.name} (${env.tier}) — LANIC CA topology, CP/CPS ${env.cpCpsVersion}`;
  out.push(`digraph ${q(env.name)} {`);
  const legend = diff
    ? "green = added · red (dashed) = removed · amber = changed · grey = unchanged · DNS flows to kube-dns are not drawn"
    : "arrows = allowed flows (port, mTLS) · dark red border = signing workload · dashed = warm standby · gold = HSM · grey arrows = audit log shipping (6514 mTLS) · DNS flows to kube-dns are not drawn";
  const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  out.push(`  graph [fontname="Helvetica", fontsize=20, label=<<b>${html(title)}</b><br/><font point-size="11">${html(legend)}</font>>, labelloc=t, rankdir=LR, newrank=true, compound=true, nodesep=0.3, ranksep=1.0, splines=true, pad=0.4, bgcolor="white"];`);
  out.push(`  node [fontname="Helvetica", fontsize=10, margin="0.15,0.06"];`);
  out.push(`  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];`);
  const nodeLine = (n: Node, indent: string) => `${indent}${n.key} [label="${esc(n.label).replace(/\\\\n/g, "\\n")}", ${n.attrs}];`;
  for (const site of sites) {
    const inAfter = env.sites.some((s) => s.name === site.name);
    const inBefore = before ? before.environment.sites.some((s) => s.name === site.name) : true;
    const sst: Status = !diff ? "same" : !inBefore ? "added" : !inAfter ? "removed" : "same";
    out.push(`  subgraph ${q(`cluster_site_${site.name}`)} {`);
    out.push(`    label=${q(`Site ${site.name} (${site.role}) — ${site.city}, ${site.country}`)}; fontsize=16; style="rounded,bold"; penwidth=2.5; color=${q(sst === "same" ? "#1f4e79" : STATUS_COLOR[sst])}; bgcolor="white";`);
    // An invisible anchor per site: chained in site order below, it fixes the order of the sites.
    out.push(`    ${id("anchor", site.name)} [shape=point, style=invis, width=0, height=0, label=""];`);
    for (const zone of ZONE_ORDER) {
      const members = [...nodes.values()].filter((n) => n.site === site.name && n.zone === zone).sort((a, b) => cmp(a.key, b.key));
      if (!members.length) continue;
      const zf = after.zones.find((z) => z.site === site.name && z.zone === zone) ?? before?.zones.find((z) => z.site === site.name && z.zone === zone);
      const st = ZONE_STYLE[zone];
      out.push(`    subgraph ${q(`cluster_${site.name}_${zone}`)} {`);
      out.push(`      label=${ql([st.title, ...(zf ? [`ns ${zf.namespace}${zf.defaultDeny ? ", default-deny" : ", NOT default-deny"}`] : [])])}; fontsize=11; style="filled,rounded"; fillcolor=${q(st.fill)}; color=${q(zone === "issuing" || zone === "hsm" || zone === "database" ? "#8b0000" : "#888888")};`);
      for (const n of members) out.push(nodeLine(n, "      "));
      out.push("    }");
    }
    out.push("  }");
  }
  // The offline root enclave: outside every site network, no arrows by construction.
  const roots = [...new Map([...(before?.components ?? []), ...after.components].filter((c) => c.kind === "offline-root").map((c) => [c.id, c])).values()].sort((a, b) => cmp(a.id, b.id));
  if (roots.length) {
    const hsm = after.hsms.find((h) => h.type === "offline") ?? before?.hsms.find((h) => h.type === "offline");
    const ca = after.environment.cas.find((c) => c.type === "root");
    out.push(`  subgraph "cluster_offline_root" {`);
    out.push(`    label=${ql(["OFFLINE ROOT ENCLAVE", "air-gapped: no network"])}; fontsize=12; fontcolor="white"; style="filled,bold"; fillcolor="#2b2b2b"; color="#000000"; penwidth=3;`);
    for (const r of roots) {
      const st: Status = before ? compStatus(after.components.find((c) => c.id === r.id) ?? r) : "same";
      const lines = [`root CA ${r.ca ?? r.name}`, ca ? `${ca.keyAlgorithm}${ca.custodians ? `, custodians ${ca.custodians.quorum} of ${ca.custodians.total}` : ""}` : "", hsm ? `${hsm.vendor} ${hsm.model}` : "", hsm && hsm.certification.scheme !== "none" ? `${hsm.certification.scheme} L${hsm.certification.level}` : hsm ? "software token (dev only)" : "", `kept at site ${r.site}`].filter(Boolean);
      out.push(`    ${id("c", r.id)} [label="${lines.map(esc).join("\\n")}", shape=box3d, style=filled, fillcolor=${q(st === "same" ? "#ffd966" : STATUS_FILL[st])}, color=${q(st === "same" ? "#ffd966" : STATUS_COLOR[st])}, penwidth=2];`);
    }
    out.push("  }");
  }
  for (const n of [...nodes.values()].filter((n) => n.site === null).sort((a, b) => cmp(a.key, b.key))) out.push(nodeLine(n, "  "));
  for (const e of [...edges.values()].sort((a, b) => cmp(`${a.from} ${a.to}`, `${b.from} ${b.to}`))) {
    const st: Status = !diff ? "same" : e.status.every((s) => s === "added") ? "added" : e.status.every((s) => s === "removed") ? "removed" : e.status.some((s) => s !== "same") ? "changed" : "same";
    const base = e.kind === "audit" ? "#9a9a9a" : e.kind === "hsm" ? "#b8860b" : e.kind === "replication" ? "#6a3d9a" : e.kind === "inbound" ? "#1f4e79" : "#333333";
    const color = diff && st !== "same" ? STATUS_COLOR[st] : diff ? "#bbbbbb" : base;
    const style = st === "removed" ? "dashed" : e.kind === "replication" ? "bold" : "solid";
    const label = e.kind === "audit" && st === "same" ? "" : [...e.labels].sort().join(", ");
    const width = diff && st !== "same" ? 2.5 : e.kind === "audit" ? 0.6 : 1.2;
    out.push(`  ${nodes.get(e.from)!.key} -> ${nodes.get(e.to)!.key} [label=${q(label)}, color=${q(color)}, fontcolor=${q(color)}, style=${style}, penwidth=${width}${e.kind === "audit" ? ", arrowsize=0.5" : ""}];`);
  }
  // Flows from outside enter on the left.
  const sources = [...nodes.values()].filter((n) => n.site === null && /^"x:(internet|government-network)/.test(n.key)).map((n) => n.key).sort();
  if (sources.length) out.push(`  { rank=min; ${sources.join("; ")}; }`);
  // Sites top to bottom in the order of \`sites\` (primary first), whatever the flows: the anchors
  // share one rank and invisible edges between them order that rank (with rankdir=LR, the first
  // of a rank is drawn on top). Without this, Graphviz may draw the backup site above the primary.
  if (sites.length > 1) {
    const anchors = sites.map((s) => id("anchor", s.name));
    out.push(`  { rank=same; ${anchors.join("; ")}; }`);
    out.push(`  ${anchors.join(" -> ")} [style=invis];`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

let graphviz: Promise<Graphviz> | undefined;

/** DOT → SVG with Graphviz compiled to WASM (loaded once per process). */
export async function renderSvg(dot: string): Promise<string> {
  graphviz ??= Graphviz.load();
  return (await graphviz).dot(dot);
}

export async function topologySvg(after: TopologyJson, before?: TopologyJson): Promise<string> {
  return renderSvg(topologyDot(after, before));
}
