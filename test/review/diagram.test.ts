/**
 * Diagram arrows: a flow every member of a zone (or of a named group inside it) has is drawn once
 * from or to the frame; everything else stays one arrow per component. Checked on the DOT text
 * by expanding every arrow through the frames it starts or ends at and comparing with the model:
 * the picture must show exactly the flows the topology allows, no more, no fewer.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ComponentFact, FlowFact, TopologyJson } from "../../constructs/model.js";
import { topologyDot, topologySvg } from "../../review/diagram.js";
import { productionModel } from "./helpers.js";

interface Arrow {
  from: string;
  to: string;
  label: string;
  color: string;
  ltail?: string;
  lhead?: string;
}

/** The frames (cluster → node keys inside it, nested ones included) and arrows of our DOT. */
function parseDot(dot: string): { frames: Map<string, Set<string>>; arrows: Arrow[] } {
  const frames = new Map<string, Set<string>>();
  const open: string[] = [];
  const arrows: Arrow[] = [];
  for (const line of dot.split("\n")) {
    const sub = line.match(/^\s*subgraph "([^"]+)" \{$/);
    if (sub) {
      open.push(sub[1]);
      frames.set(sub[1], new Set());
      continue;
    }
    if (/^\s*\}$/.test(line)) {
      open.pop();
      continue;
    }
    const edge = line.match(/^\s*"([^"]+)" -> "([^"]+)" \[(.*)\];$/);
    if (edge) {
      const attr = (n: string) => edge[3].match(new RegExp(`(?:^|, )${n}="([^"]*)"`))?.[1];
      if (!edge[3].includes("style=invis")) arrows.push({ from: edge[1], to: edge[2], label: attr("label") ?? "", color: attr("color") ?? "", ltail: attr("ltail"), lhead: attr("lhead") });
      continue;
    }
    const node = line.match(/^\s*"([^"]+)" \[label=/);
    if (node) for (const f of open) frames.get(f)!.add(node[1]);
  }
  return { frames, arrows };
}

/** Every (from, to) pair of components the picture says may talk, frames expanded. */
function drawnPairs(dot: string): Set<string> {
  const { frames, arrows } = parseDot(dot);
  const pairs = new Set<string>();
  for (const a of arrows) {
    const tails = a.ltail ? [...frames.get(a.ltail)!] : [a.from];
    const heads = a.lhead ? [...frames.get(a.lhead)!] : [a.to];
    for (const t of tails) for (const h of heads) if (t.startsWith("c:") && h.startsWith("c:")) pairs.add(`${t} ${h}`);
  }
  return pairs;
}

/** The same pairs from the model: component-to-component flows, and a replica's replication
 *  flow to the primary's database it names (`<site>-<name>`). */
function modelPairs(...models: TopologyJson[]): Set<string> {
  const pairs = new Set<string>();
  for (const m of models)
    for (const f of m.flows) {
      if (f.from.type === "component" && f.to.type === "component") pairs.add(`c:${f.from.id} c:${f.to.id}`);
      if (f.from.type === "component" && f.to.type === "external" && f.to.kind === "replication") {
        const name = f.to.name;
        const primary = m.components.find((c) => c.kind === "database" && `${c.site}-${c.name}` === name);
        if (primary) pairs.add(`c:${f.from.id} c:${primary.id}`);
      }
    }
  return pairs;
}

const issuing = (m: TopologyJson, site = "lanic") => m.components.filter((c) => c.site === site && c.zone === "issuing");
const dbFlow = (f: FlowFact, from: string) => f.from.type === "component" && f.from.id === from && f.to.type === "component" && f.to.id === "lanic/lanic-ca-db";

/** A copy of an issuing-zone component under a new name, with all its flows. */
function addMember(m: TopologyJson, like: string, name: string): TopologyJson {
  const t = structuredClone(m);
  const src = t.components.find((c) => c.id === like)!;
  const c: ComponentFact = { ...structuredClone(src), id: `lanic/${name}`, name };
  t.components.push(c);
  const rename = <E extends FlowFact["from"]>(e: E): E => (e.type === "component" && e.id === like ? { ...e, id: c.id } : e);
  for (const f of m.flows.filter((f) => (f.from.type === "component" && f.from.id === like) || (f.to.type === "component" && f.to.id === like)))
    t.flows.push({ ...structuredClone(f), from: rename(f.from), to: rename(f.to) });
  return t;
}

describe("diagram arrows merged per zone or group", () => {
  let prod: TopologyJson;
  beforeAll(() => {
    prod = productionModel();
  });

  it("a flow every member of a zone has is one arrow from the zone's frame, labelled with how many", () => {
    const members = issuing(prod);
    expect(members).toHaveLength(8);
    for (const c of members) expect(prod.flows.some((f) => dbFlow(f, c.id))).toBe(true);
    const { arrows } = parseDot(topologyDot(prod));
    const toDb = arrows.filter((a) => a.to === "c:lanic/lanic-ca-db" && members.some((c) => a.from === `c:${c.id}`));
    expect(toDb).toEqual([expect.objectContaining({ label: "5432 mTLS — all 8 in zone", ltail: "cluster_lanic_issuing" })]);
    // The audit arrows (grey, no port) and the HSM arrow too.
    expect(
      arrows
        .filter((a) => a.ltail === "cluster_lanic_issuing")
        .map((a) => `${a.to} ${a.label}`)
        .sort(),
    ).toEqual(["c:lanic/audit-collector all 8 in zone", "c:lanic/lanic-ca-db 5432 mTLS — all 8 in zone", "hsm:lanic:online 1792 mTLS — all 8 in zone"]);
  });

  it("a flow only the components of one kind have is drawn from that group's frame, named", () => {
    const dot = topologyDot(prod);
    const { frames, arrows } = parseDot(dot);
    expect([...frames.get("cluster_lanic_issuing_crl-publisher")!].sort()).toEqual(
      issuing(prod)
        .filter((c) => c.kind === "crl-publisher")
        .map((c) => `c:${c.id}`)
        .sort(),
    );
    expect(dot).toContain('label="crl-publisher (4)"');
    expect(arrows).toContainEqual(expect.objectContaining({ to: "c:lanic/repository", label: "8443 mTLS — all 4 crl-publisher", ltail: "cluster_lanic_issuing_crl-publisher" }));
    expect(arrows).toContainEqual(expect.objectContaining({ from: "c:lanic/ra", label: "8443 mTLS — to both issuing-ca", lhead: "cluster_lanic_issuing_issuing-ca" }));
  });

  it("when one component of a zone lacks the flow, no frame arrow covers it and the others keep theirs", () => {
    const lacking = "lanic/ocsp-signer-lao-gov-tls-ca-1";
    const m = structuredClone(prod);
    m.flows = m.flows.filter((f) => !dbFlow(f, lacking));
    const dot = topologyDot(m);
    const { frames, arrows } = parseDot(dot);
    const toDb = arrows.filter((a) => a.to === "c:lanic/lanic-ca-db");
    expect(toDb.some((a) => a.ltail === "cluster_lanic_issuing")).toBe(false);
    // The other ocsp-signer, alone in its kind now, has its own arrow.
    expect(toDb).toContainEqual(expect.objectContaining({ from: "c:lanic/ocsp-signer-lao-gov-signing-ca-1", label: "5432 mTLS" }));
    expect(toDb.filter((a) => a.ltail && frames.get(a.ltail)!.has(`c:${lacking}`))).toEqual([]);
    expect(drawnPairs(dot).has(`c:${lacking} c:lanic/lanic-ca-db`)).toBe(false);
    expect(drawnPairs(dot)).toEqual(modelPairs(m));
  });

  it("every arrow, expanded through its frames, is a flow of the model, and every flow is drawn", () => {
    expect(drawnPairs(topologyDot(prod))).toEqual(modelPairs(prod));
  });

  it("the backup site's databases replicate to their namesakes at the primary site, not across", () => {
    const { arrows } = parseDot(topologyDot(prod));
    expect(
      arrows
        .filter((a) => a.color === "#6a3d9a")
        .map((a) => `${a.from} -> ${a.to}`)
        .sort(),
    ).toEqual(["c:backup/lanic-ca-db -> c:lanic/lanic-ca-db", "c:backup/lanic-ca-ra-db -> c:lanic/lanic-ca-ra-db", "c:backup/lanic-ca-tsa-db -> c:lanic/lanic-ca-tsa-db"]);
  });

  it("diff: an added member's arrows stay its own and green; the unchanged members' are not merged with it", () => {
    const added = "issuing-ca-lao-gov-new-ca-1";
    const head = addMember(prod, "lanic/issuing-ca-lao-gov-tls-ca-1", added);
    const dot = topologyDot(head, prod);
    const { frames, arrows } = parseDot(dot);
    const mine = arrows.filter((a) => a.from === `c:lanic/${added}` && !a.ltail);
    expect(mine.map((a) => `${a.to} ${a.label} ${a.color}`).sort()).toEqual(["c:lanic/audit-collector 6514 mTLS #1a7f37", "c:lanic/lanic-ca-db 5432 mTLS #1a7f37", "hsm:lanic:online 1792 mTLS #1a7f37"]);
    expect(arrows).toContainEqual(expect.objectContaining({ from: "c:lanic/ra", to: `c:lanic/${added}`, color: "#1a7f37" }));
    // No frame arrow covers the added member; frame arrows of unchanged members are grey.
    for (const a of arrows.filter((a) => a.ltail ?? a.lhead)) {
      expect(frames.get((a.ltail ?? a.lhead)!)!.has(`c:lanic/${added}`), a.label).toBe(false);
      expect(a.color, a.label).toBe("#bbbbbb");
    }
    expect(drawnPairs(dot)).toEqual(modelPairs(head, prod));
  });

  it("diff: a flow added for every member of a zone is one green arrow from the frame", () => {
    const base = structuredClone(prod);
    base.flows = base.flows.filter((f) => !issuing(prod).some((c) => dbFlow(f, c.id)));
    const { arrows } = parseDot(topologyDot(prod, base));
    expect(arrows.filter((a) => a.to === "c:lanic/lanic-ca-db" && a.ltail === "cluster_lanic_issuing")).toEqual([expect.objectContaining({ label: "5432 mTLS — all 8 in zone", color: "#1a7f37" })]);
    expect(arrows.filter((a) => a.to === "c:lanic/lanic-ca-db" && a.from.startsWith("c:lanic/") && !a.ltail && issuing(prod).some((c) => a.from === `c:${c.id}`))).toEqual([]);
  });

  it("Graphviz draws the frame arrows: each one's path is in the SVG, clipped at the frame", async () => {
    const svg = await topologySvg(prod);
    expect(svg).toContain("5432 mTLS — all 8 in zone");
    expect(svg).toContain("8443 mTLS — all 4 crl&#45;publisher");
    expect(svg).toContain("<title>cluster_lanic_issuing_crl&#45;publisher</title>");
  });
});
