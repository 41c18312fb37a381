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
import { setFlagsFromString } from "node:v8";
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
  timestamping: { fill: "#fdeee0", title: "time-stamping zone (protected)" },
  hsm: { fill: "#fff3cd", title: "HSM zone (protected)" },
  database: { fill: "#f1e8fb", title: "database zone (protected)" },
  audit: { fill: "#eeeeee", title: "audit zone" },
  management: { fill: "#f6f6f6", title: "management zone" },
};
const ZONE_ORDER = ["public", "government", "ra", "issuing", "timestamping", "hsm", "database", "audit", "management"];

const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
/** A quoted DOT string of several lines. */
const ql = (lines: string[]) => `"${lines.map(esc).join("\\n")}"`;
const id = (...parts: string[]) => q(parts.join(":"));
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Numbers inside names in numeric order: gen-ca-2 before gen-ca-10. */
const natural = (a: string, b: string) => {
  const pa = a.split(/(\d+)/),
    pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return (i % 2 === 1 && Number(pa[i]) - Number(pb[i])) || cmp(pa[i], pb[i]);
  return pa.length - pb.length;
};

interface Node {
  key: string;
  site: string | null;
  zone: string | null;
  kind: string;
  label: string;
  attrs: string;
  status: Status;
}
type EdgeKind = "normal" | "audit" | "hsm" | "replication" | "inbound";
/** One (from node, to node, port) of the model, before arrows are merged. */
interface Unit {
  from: string;
  to: string;
  token: string;
  kind: EdgeKind;
  status: Status[];
}
/** A drawn arrow. `tail`/`head` set: drawn from/to that frame (a zone or a group), `members` in it. */
interface Edge {
  from: string;
  to: string;
  labels: Set<string>;
  status: Status[];
  kind: EdgeKind;
  tail?: Frame;
  head?: Frame;
}
/** A zone of a site, or a group (the components of one kind) inside a zone. */
interface Frame {
  cluster: string;
  members: string[];
  what: string;
}

function hsmLabel(h: HsmFact, site: string): string {
  const cert = h.certification.scheme === "none" ? "software token (dev only)" : `${h.certification.scheme} L${h.certification.level}`;
  const members = h.members.filter((m) => m.site === site).map((m) => `${m.name} ${m.address}:${m.port}`);
  const parts = h.partitions.map((p) => `partition ${p.name}: ${p.keys.length} key${p.keys.length === 1 ? "" : "s"}`);
  return [`HSM ${h.vendor} ${h.model}`, cert, ...(members.length ? members : h.type === "softhsm" ? ["SoftHSM inside the signing pods"] : ["no member at this site"]), ...parts].join("\\n");
}

function componentLabel(c: ComponentFact): string {
  const lines = [c.name, `${c.runsAs === "none" ? "" : `${c.runsAs} `}${c.runsAs === "Deployment" || c.runsAs === "CloudNativePG Cluster" ? `×${c.replicas}` : (c.schedule ?? "")}`.trim()];
  if (c.standby) lines.push("warm standby");
  if (c.signing) lines.push("signs (HSM key)");
  return lines.filter(Boolean).join("\\n");
}

/** Builds the DOT text. `before` given: a diff diagram of `before` → `after`. */
export function topologyDot(after: TopologyJson, before?: TopologyJson): string {
  const env = after.environment;
  const diff = !!before;
  const sites = [...new Map([...(before?.environment.sites ?? []), ...env.sites].map((s) => [s.name, s])).values()].sort((a, b) => (a.role === b.role ? cmp(a.name, b.name) : a.role === "primary" ? -1 : 1));
  const nodes = new Map<string, Node>();
  const afterComps = new Map(after.components.map((c) => [c.id, c]));
  const beforeComps = new Map((before?.components ?? []).map((c) => [c.id, c]));
  const compStatus = (c: ComponentFact): Status => {
    if (!before) return "same";
    const b = beforeComps.get(c.id);
    const a = afterComps.get(c.id);
    if (!b) return "added";
    if (!a) return "removed";
    return JSON.stringify(a) === JSON.stringify(b) ? "same" : "changed";
  };
  const allComps = [...new Map([...(before?.components ?? []), ...after.components].map((c) => [c.id, c])).values()];
  // Prefer the after version of a component for its label.
  for (const c of allComps) {
    const cur = afterComps.get(c.id) ?? c;
    const status = compStatus(cur);
    if (cur.kind === "offline-root") continue;
    const shape = cur.kind === "database" ? "cylinder" : "box";
    const style = `${shape === "box" ? "rounded," : ""}filled${cur.standby ? ",dashed" : ""}`;
    const pen = cur.signing ? 2 : 1;
    nodes.set(`c:${cur.id}`, {
      key: id("c", cur.id),
      site: cur.site,
      zone: cur.zone,
      kind: cur.kind,
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
      const a = hsmsAfter.find((x) => x.name === h.name),
        b = hsmsBefore.find((x) => x.name === h.name);
      const cur = a ?? h;
      const status: Status = !diff
        ? "same"
        : !b
          ? "added"
          : !a
            ? "removed"
            : JSON.stringify(hsmLabel(a, site.name)) === JSON.stringify(hsmLabel(b, site.name)) && JSON.stringify(a.certification) === JSON.stringify(b.certification)
              ? "same"
              : "changed";
      nodes.set(`hsm:${site.name}:${h.name}`, {
        key: id("hsm", site.name, h.name),
        site: site.name,
        zone: "hsm",
        kind: "hsm",
        label: hsmLabel(cur, site.name),
        attrs: `shape=box3d, style=filled, penwidth=2, color=${q(diff ? STATUS_COLOR[status] : "#7a5c00")}, fillcolor=${q(diff && status !== "same" ? STATUS_FILL[status] : "#ffd966")}`,
        status,
      });
    }

  // Flows → units, one per (from node, to node, port); DNS left out (every pod may resolve names).
  const units = new Map<string, Unit>();
  const nodeFor = (e: Endpoint, f: FlowFact, t: TopologyJson): { key: string; kind: EdgeKind } | null => {
    if (e.type === "component") return { key: `c:${e.id}`, kind: "normal" };
    if (e.kind === "cluster-dns") return null;
    if (e.kind === "hsm") {
      const h = t.hsms.find((x) => x.type !== "offline");
      return { key: `hsm:${f.site}:${h?.name ?? "online"}`, kind: "hsm" };
    }
    if (e.kind === "replication") {
      // Each side names the other's database `<site>-<name>` (constructs/database.ts): a replica
      // the primary's, the primary each backup site's. Drawn to that database when there is
      // exactly one (`backup-site-<name>`: models synthesized before every backup site was
      // named); otherwise as the address range it is.
      const peers = t.components.filter((c) => c.kind === "database" && c.site !== f.site && (`${c.site}-${c.name}` === e.name || `backup-site-${c.name}` === e.name));
      if (peers.length === 1) return { key: `c:${peers[0].id}`, kind: "replication" };
    }
    const key = `x:${e.kind}:${e.name}`;
    if (!nodes.has(key)) {
      const title =
        e.kind === "internet"
          ? "Internet"
          : e.kind === "government-network"
            ? "Government network"
            : e.kind === "audit-sink"
              ? "Audit log sink (SIEM)"
              : e.kind === "replication"
                ? `database replication: ${e.name}`
                : e.kind === "object-store"
                  ? `backup object store: ${e.name}`
                  : e.name;
      nodes.set(key, {
        key: id("x", e.kind, e.name),
        site: null,
        zone: null,
        kind: e.kind,
        label: `${title}\\n${e.cidrs.join(", ")}`,
        attrs: `shape=note, style=filled, fillcolor="#f0f0f0", color="#555555"`,
        status: "same",
      });
    }
    return { key, kind: e.kind === "internet" || e.kind === "government-network" ? "inbound" : e.kind === "replication" ? "replication" : "normal" };
  };
  const addFlows = (t: TopologyJson, status: (f: FlowFact) => Status | null) => {
    const cm = new Map(t.components.map((c) => [c.id, c]));
    // No need to sort: units are keyed, and nodes, arrows and labels are sorted when written.
    for (const f of t.flows) {
      const st = status(f);
      if (st === null) continue;
      const from = nodeFor(f.from, f, t),
        to = nodeFor(f.to, f, t);
      if (!from || !to) continue;
      const audit = f.to.type === "component" && cm.get(f.to.id)?.kind === "audit-collector";
      const kind: EdgeKind = audit ? "audit" : from.kind === "replication" || to.kind === "replication" ? "replication" : to.kind === "hsm" ? "hsm" : from.kind === "inbound" ? "inbound" : "normal";
      const token = `${f.port}${f.protocol === "UDP" ? "/udp" : ""}${f.mtls ? " mTLS" : ""}`;
      const k = `${from.key} ${to.key} ${token}`;
      const u = units.get(k) ?? { from: from.key, to: to.key, token, kind, status: [] };
      u.status.push(st);
      units.set(k, u);
    }
  };
  if (before) {
    const bf = new Map(before.flows.map((f) => [flowKey(f), f]));
    const af = new Map(after.flows.map((f) => [flowKey(f), f]));
    addFlows(after, (f) => (!bf.has(flowKey(f)) ? "added" : JSON.stringify(bf.get(flowKey(f))) !== JSON.stringify(f) ? "changed" : "same"));
    addFlows(before, (f) => (af.has(flowKey(f)) ? null : "removed"));
  } else addFlows(after, () => "same");

  // Units → arrows. A flow (same port, same node at the other end) that every member of a zone
  // has is drawn once, from (or to) the zone's frame; failing that, once for every member of a
  // group: the components of one kind inside a zone of several kinds, framed and named. Only
  // when all those members' flows have the same diff status. Everything else: one arrow per
  // (component, component), as the model says. docs/adr/0041.
  const statusOf = (st: Status[]): Status => (!diff ? "same" : st.every((s) => s === "added") ? "added" : st.every((s) => s === "removed") ? "removed" : st.some((s) => s !== "same") ? "changed" : "same");
  const zoneOf = new Map<string, Frame>(),
    groupOf = new Map<string, Frame>();
  const byZone = new Map<string, string[]>();
  for (const [k, n] of nodes)
    if (n.site !== null && n.zone !== null)
      byZone
        .set(`${n.site}_${n.zone}`, byZone.get(`${n.site}_${n.zone}`) ?? [])
        .get(`${n.site}_${n.zone}`)!
        .push(k);
  for (const [z, keys] of byZone) {
    const members = keys.sort((a, b) => cmp(nodes.get(a)!.key, nodes.get(b)!.key));
    const zone: Frame = { cluster: `cluster_${z}`, members, what: "in zone" };
    for (const k of members) zoneOf.set(k, zone);
    const kinds = new Map<string, string[]>();
    for (const k of members)
      kinds
        .set(nodes.get(k)!.kind, kinds.get(nodes.get(k)!.kind) ?? [])
        .get(nodes.get(k)!.kind)!
        .push(k);
    if (kinds.size < 2) continue; // the group would be the zone
    for (const [kind, ks] of kinds) {
      if (ks.length < 2) continue;
      const group: Frame = { cluster: `cluster_${z}_${kind}`, members: ks, what: kind };
      for (const k of ks) groupOf.set(k, group);
    }
  }
  const edges = new Map<string, Edge>();
  let rest = [...units.values()];
  const merge = (side: "tail" | "head", frameOf: Map<string, Frame>) => {
    const buckets = new Map<string, { frame: Frame; other: string; units: Unit[] }>();
    for (const u of rest) {
      const [mine, other] = side === "tail" ? [u.from, u.to] : [u.to, u.from];
      const frame = frameOf.get(mine);
      // A frame of one is that component's own arrow; Graphviz draws no arrow from a frame to its inside.
      if (!frame || frame.members.length < 2 || frameOf.get(other) === frame) continue;
      const k = `${frame.cluster} ${other} ${u.token} ${u.kind}`;
      const b = buckets.get(k) ?? { frame, other, units: [] };
      b.units.push(u);
      buckets.set(k, b);
    }
    const used = new Set<Unit>();
    for (const { frame, other, units: us } of buckets.values()) {
      const st = statusOf(us[0].status);
      // One unit per member at most (units are per (from, to, port)): all members have it.
      if (us.length !== frame.members.length || us.some((u) => statusOf(u.status) !== st)) continue;
      const rep = frame.members[0];
      const k = `${side} ${frame.cluster} ${other} ${us[0].kind} ${st}`;
      const e = edges.get(k) ?? { from: side === "tail" ? rep : other, to: side === "tail" ? other : rep, labels: new Set<string>(), status: [], kind: us[0].kind, [side]: frame };
      e.labels.add(us[0].token);
      for (const u of us) {
        e.status.push(st);
        used.add(u);
      }
      edges.set(k, e);
    }
    rest = rest.filter((u) => !used.has(u));
  };
  merge("tail", zoneOf);
  merge("tail", groupOf);
  merge("head", zoneOf);
  merge("head", groupOf);
  for (const u of rest) {
    const k = `node ${u.from} ${u.to}`;
    const e = edges.get(k) ?? { from: u.from, to: u.to, labels: new Set<string>(), status: [], kind: u.kind };
    e.labels.add(u.token);
    e.status.push(...u.status);
    edges.set(k, e);
  }
  const framesUsed = new Set([...edges.values()].flatMap((e) => [e.tail, e.head]).filter((f): f is Frame => !!f));

  // --- write DOT
  const out: string[] = [];
  const title = diff ? `${env.name}: topology changes (green added, red removed, amber changed)` : `${env.name} (${env.tier}) — LANIC CA topology, CP/CPS ${env.cpCpsVersion}`;
  out.push(`digraph ${q(env.name)} {`);
  const legend = diff
    ? "green = added · red (dashed) = removed · amber = changed · grey = unchanged · an arrow from or to a frame = the same flow for every member, with the same change (label: how many) · DNS flows to kube-dns are not drawn"
    : "arrows = allowed flows (port, mTLS) · an arrow from or to a zone or group frame = that flow for every member (label: how many) · dark red border = signing workload · dashed = warm standby · gold = HSM · grey arrows = audit log shipping (6514 mTLS) · DNS flows to kube-dns are not drawn";
  const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  out.push(
    `  graph [fontname="Helvetica", fontsize=20, label=<<b>${html(title)}</b><br/><font point-size="11">${html(legend)}</font>>, labelloc=t, rankdir=LR, newrank=true, compound=true, nodesep=0.3, ranksep=1.0, splines=true, pad=0.4, bgcolor="white"];`,
  );
  out.push(`  node [fontname="Helvetica", fontsize=10, margin="0.15,0.06"];`);
  out.push(`  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];`);
  const nodeLine = (n: Node, indent: string) => `${indent}${n.key} [label="${esc(n.label).replace(/\\\\n/g, "\\n")}", ${n.attrs}];`;
  for (const site of sites) {
    const inAfter = env.sites.some((s) => s.name === site.name);
    const inBefore = before ? before.environment.sites.some((s) => s.name === site.name) : true;
    const sst: Status = !diff ? "same" : !inBefore ? "added" : !inAfter ? "removed" : "same";
    out.push(`  subgraph ${q(`cluster_site_${site.name}`)} {`);
    out.push(
      `    label=${q(`Site ${site.name} (${site.role}) — ${site.city}, ${site.country}`)}; fontsize=16; style="rounded,bold"; penwidth=2.5; color=${q(sst === "same" ? "#1f4e79" : STATUS_COLOR[sst])}; bgcolor="white";`,
    );
    // An invisible anchor per site: tied to the site order below.
    out.push(`    ${id("anchor", site.name)} [shape=point, style=invis, width=0, height=0, label="", group=${q(`site_${site.name}`)}];`);
    for (const zone of ZONE_ORDER) {
      // Written last name first: under rankdir=LR Graphviz draws the first node of a column at the
      // bottom, so a zone's or group's components read top to bottom in name order.
      const keys = [...(byZone.get(`${site.name}_${zone}`) ?? [])].sort((a, b) => natural(nodes.get(b)!.key, nodes.get(a)!.key));
      const members = keys.map((k) => nodes.get(k)!);
      if (!members.length) continue;
      const zf = after.zones.find((z) => z.site === site.name && z.zone === zone) ?? before?.zones.find((z) => z.site === site.name && z.zone === zone);
      const st = ZONE_STYLE[zone];
      out.push(`    subgraph ${q(`cluster_${site.name}_${zone}`)} {`);
      out.push(
        `      label=${ql([st.title, ...(zf ? [`ns ${zf.namespace}${zf.defaultDeny ? ", default-deny" : ", NOT default-deny"}`] : [])])}; fontsize=11; style="filled,rounded"; fillcolor=${q(st.fill)}; color=${q(zone === "issuing" || zone === "timestamping" || zone === "hsm" || zone === "database" ? "#8b0000" : "#888888")};`,
      );
      const groups = [...new Set(keys.map((k) => groupOf.get(k)))].filter((g): g is Frame => !!g && framesUsed.has(g));
      const grouped = new Set(groups.flatMap((g) => g.members));
      for (const k of keys) if (!grouped.has(k)) out.push(nodeLine(nodes.get(k)!, "      "));
      for (const g of groups) {
        out.push(`      subgraph ${q(g.cluster)} {`);
        out.push(`        label=${q(`${g.what} (${g.members.length})`)}; fontsize=10; style="rounded,filled"; fillcolor="#ffffff"; color="#777777";`);
        for (const k of keys) if (g.members.includes(k)) out.push(nodeLine(nodes.get(k)!, "        "));
        out.push("      }");
      }
      // A frame an arrow starts or ends at: its members in one column, the arrow leaves from its side.
      if (groups.length || framesUsed.has(zoneOf.get(keys[0])!)) out.push(`      { rank=same; ${members.map((n) => n.key).join("; ")}; }`);
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
      const lines = [
        `root CA ${r.ca ?? r.name}`,
        ca ? `${ca.keyAlgorithm}${ca.custodians ? `, custodians ${ca.custodians.quorum} of ${ca.custodians.total}` : ""}` : "",
        hsm ? `${hsm.vendor} ${hsm.model}` : "",
        hsm && hsm.certification.scheme !== "none" ? `${hsm.certification.scheme} L${hsm.certification.level}` : hsm ? "software token (dev only)" : "",
        `kept at site ${r.site}`,
      ].filter(Boolean);
      out.push(
        `    ${id("c", r.id)} [label="${lines.map(esc).join("\\n")}", shape=box3d, style=filled, fillcolor=${q(st === "same" ? "#ffd966" : STATUS_FILL[st])}, color=${q(st === "same" ? "#ffd966" : STATUS_COLOR[st])}, penwidth=2];`,
      );
    }
    out.push("  }");
  }
  for (const n of [...nodes.values()].filter((n) => n.site === null).sort((a, b) => cmp(a.key, b.key))) out.push(nodeLine(n, "  "));
  const frameLabel = (f: Frame, side: "tail" | "head") => `${side === "head" ? "to " : ""}${f.members.length === 2 ? "both" : `all ${f.members.length}`} ${f.what}`;
  const sortKey = (e: Edge) => `${nodes.get(e.from)!.key} ${nodes.get(e.to)!.key} ${e.tail?.cluster ?? ""} ${e.head?.cluster ?? ""} ${statusOf(e.status)}`;
  for (const e of [...edges.values()]
    .map((e) => ({ e, k: sortKey(e) }))
    .sort((a, b) => cmp(a.k, b.k))
    .map((x) => x.e)) {
    const st = statusOf(e.status);
    const base = e.kind === "audit" ? "#9a9a9a" : e.kind === "hsm" ? "#b8860b" : e.kind === "replication" ? "#6a3d9a" : e.kind === "inbound" ? "#1f4e79" : "#333333";
    const color = diff && st !== "same" ? STATUS_COLOR[st] : diff ? "#bbbbbb" : base;
    const style = st === "removed" ? "dashed" : e.kind === "replication" ? "bold" : "solid";
    const ports = e.kind === "audit" && st === "same" ? "" : [...e.labels].sort().join(", ");
    const frame = e.tail ? frameLabel(e.tail, "tail") : e.head ? frameLabel(e.head, "head") : "";
    const label = [ports, frame].filter(Boolean).join(" — ");
    const width = diff && st !== "same" ? 2.5 : e.kind === "audit" ? 0.6 : 1.2;
    const compound = `${e.tail ? `, ltail=${q(e.tail.cluster)}` : ""}${e.head ? `, lhead=${q(e.head.cluster)}` : ""}`;
    out.push(
      `  ${nodes.get(e.from)!.key} -> ${nodes.get(e.to)!.key} [label=${q(label)}, color=${q(color)}, fontcolor=${q(color)}, style=${style}, penwidth=${width}${e.kind === "audit" ? ", arrowsize=0.5" : ""}${compound}];`,
    );
  }
  // Flows from outside enter on the left.
  const sources = [...nodes.values()]
    .filter((n) => n.site === null && /^"x:(internet|government-network)/.test(n.key))
    .map((n) => n.key)
    .sort();
  if (sources.length) out.push(`  { rank=min; ${sources.join("; ")}; }`);
  // Sites top to bottom in the order of \`sites\` (primary first), whatever the flows. Graphviz
  // drops an edge between two nodes of one rank in different clusters (class2.c, interclrep), so
  // the site frames cannot be ordered from inside. Outside them they can: invisible points, one
  // per site, share the first rank and are chained (with rankdir=LR the first of a chain is on
  // top); each is tied by an invisible edge to an anchor inside its site frame. Both ends of a tie
  // are in one \`group\`, which makes Graphviz count a crossing of the tie 1000 times
  // (dotinit.c, CL_CROSS): putting two sites the other way round would cross two ties, more than
  // the few real edges between sites can save. weight=0: the ties do not pull on the positions.
  if (sites.length > 1) {
    const outer = sites.map((s) => id("order", s.name));
    for (const [i, s] of sites.entries()) out.push(`  ${outer[i]} [shape=point, style=invis, width=0, height=0, label="", group=${q(`site_${s.name}`)}];`);
    out.push(`  { rank=min; ${outer.join("; ")}; }`);
    out.push(`  ${outer.join(" -> ")} [style=invis];`);
    for (const [i, s] of sites.entries()) out.push(`  ${outer[i]} -> ${id("anchor", s.name)} [style=invis, weight=0];`);
    out.push(`  { rank=same; ${sites.map((s) => id("anchor", s.name)).join("; ")}; }`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

let graphviz: Promise<Graphviz> | undefined;

/**
 * Runs Graphviz's WASM on V8's baseline compiler only (Liftoff, no optimizing tier) — for every
 * WASM module this process compiles from now on; call it before the first renderSvg, in a
 * process that draws once (`lanic-ca synth`, `lanic-ca diagram`). On one layout the
 * optimizing tier costs more than it saves: it compiles Graphviz's hot functions in the
 * background, on the cores synth needs. Production's first layout takes ~0.1 s instead of
 * ~0.4 s, the 10× one ~0.5 s instead of ~1.2 s (bench/diagram.ts); the SVG bytes are the same.
 */
export function baselineWasmOnly(): void {
  if (!graphviz) setFlagsFromString("--liftoff-only");
}

/** DOT → SVG with Graphviz compiled to WASM (loaded once per process). */
export async function renderSvg(dot: string): Promise<string> {
  graphviz ??= Graphviz.load();
  return (await graphviz).dot(dot);
}

export async function topologySvg(after: TopologyJson, before?: TopologyJson): Promise<string> {
  return renderSvg(topologyDot(after, before));
}

/** synth's diagram (review/cli.ts diagramExtension): one layout per environment, so Graphviz
 *  runs on V8's baseline WASM compiler. */
export async function synthDiagram(model: TopologyJson): Promise<string> {
  baselineWasmOnly();
  return topologySvg(model);
}
