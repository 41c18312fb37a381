/**
 * The topology diff: compares two synthesized outputs of one environment on the normalised model
 * first (topology/<env>.json: what a reviewer reasons about), the Terraform stacks second (what
 * will be applied), classifies every security-relevant change and works out who must approve.
 * Pure: no file access here (review/load.ts reads the folders).
 */
import { PROTECTED_ZONES, type ComponentFact, type Endpoint, type FlowFact, type TopologyJson } from "../constructs/model.js";
import type { ControlFact, ExceptionFact, PolicySnapshot } from "./policy-facts.js";
import {
  SEVERITY_ORDER,
  type ChangeClass,
  type DiffReport,
  type Direction,
  type EnvironmentDiff,
  type FieldChange,
  type Note,
  type OtherChange,
  type RequiredApproval,
  type SecurityChange,
  type Severity,
  type StackChange,
} from "./types.js";

/** One side of a comparison, for one environment. */
export interface EnvironmentSnapshot {
  name: string;
  topology: TopologyJson | null;
  /** Terraform JSON by stack id (`<env>-<site>`). */
  stacks: Record<string, unknown>;
  policy?: PolicySnapshot;
}

// ---------------------------------------------------------------------------------------------
// helpers

export const endpointKey = (e: Endpoint) => (e.type === "component" ? e.id : `${e.kind}:${e.name}`);
export const flowKey = (f: FlowFact) => `${f.site} ${endpointKey(f.from)} -> ${endpointKey(f.to)} ${f.port}/${f.protocol}`;
export const flowLabel = (f: FlowFact) => `${endpointKey(f.from)} → ${endpointKey(f.to)} :${f.port}/${f.protocol}`;

function zoneOf(e: Endpoint, components: Map<string, ComponentFact>): string {
  if (e.type === "external") return e.kind === "hsm" ? "hsm" : e.kind;
  return components.get(e.id)?.zone ?? "unknown";
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
/** Equality of two JSON values, as their JSON texts would be equal up to key order (a key whose
 *  value is undefined counts as absent). Walks both at once and stops at the first difference:
 *  comparing `JSON.stringify` texts at every level of `leafDiff` made the diff quadratic in
 *  the depth of the stacks (bench/diff.ts). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const kx = keys(x);
  if (kx.length !== keys(y).length) return false;
  for (const k of kx) if (!jsonEqual(x[k], y[k])) return false;
  return true;
}
const same = jsonEqual;

/** Leaf differences between two JSON values, as dotted paths (arrays compared whole when they
 *  hold scalars, element-wise otherwise). */
export function leafDiff(a: unknown, b: unknown, prefix = ""): FieldChange[] {
  if (same(a, b)) return [];
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => leafDiff(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.some(isObj)) {
    return a.flatMap((x, i) => leafDiff(x, b[i], `${prefix}[${i}]`));
  }
  return [{ path: prefix || "(value)", before: a, after: b }];
}

function isPrivate(cidr: string): boolean {
  return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16"].some((p) => cidrWithin(cidr, p));
}

function ipv4(s: string): number | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  return m ? ((+m[1] << 24) >>> 0) + (+m[2] << 16) + (+m[3] << 8) + +m[4] : null;
}
/** True when CIDR `inner` lies inside CIDR `outer` (non-CIDR strings: equality). */
export function cidrWithin(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  const [ia, il] = inner.split("/");
  const [oa, ol] = outer.split("/");
  const i = ipv4(ia),
    o = ipv4(oa);
  if (i === null || o === null || il === undefined || ol === undefined) return false;
  if (+il < +ol) return false;
  const mask = +ol === 0 ? 0 : (~0 << (32 - +ol)) >>> 0;
  return (i & mask) >>> 0 === (o & mask) >>> 0;
}
const cidrs = (e: Endpoint) => (e.type === "external" ? e.cidrs : []);

// ---------------------------------------------------------------------------------------------
// generic entity diff (the "other changes" come from here)

interface EntityDiff<T> {
  added: T[];
  removed: T[];
  changed: { before: T; after: T; key: string; fields: FieldChange[] }[];
}

function diffBy<T>(before: T[], after: T[], key: (x: T) => string): EntityDiff<T> {
  const b = new Map(before.map((x) => [key(x), x]));
  const a = new Map(after.map((x) => [key(x), x]));
  const out: EntityDiff<T> = { added: [], removed: [], changed: [] };
  for (const [k, x] of a) if (!b.has(k)) out.added.push(x);
  for (const [k, x] of b) if (!a.has(k)) out.removed.push(x);
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y !== undefined && !same(x, y)) out.changed.push({ before: y, after: x, key: k, fields: leafDiff(y, x) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// classification

/** One classified change before grouping: a single subject, at most one site. */
type RawChange = Omit<SecurityChange, "environment" | "subjects" | "sites"> & { site?: string };

class Collector {
  readonly security: RawChange[] = [];
  /** `entity|path` pairs (or `entity|*`) already explained by a security change. */
  readonly covered = new Set<string>();
  constructor(readonly env: string) {}
  add(c: RawChange, covers: string[] = []) {
    this.security.push(c);
    for (const x of covers) this.covered.add(x);
  }
}

/** The site a construct path (`<env>/<env>-<site>/…`) belongs to; none for `<env>/offline-root`. */
const siteOfPath = (env: string, path: string): string | undefined => {
  const stack = path.split("/")[1] ?? "";
  return stack.startsWith(`${env}-`) ? stack.slice(env.length + 1) : undefined;
};
/** The site of a component id (`<site>/<name>`). */
const siteOfId = (id: string): string | undefined => (id.includes("/") ? id.split("/")[0] : undefined);

const GROUP_NOUN: Partial<Record<ChangeClass, string>> = {
  "signing-image": "signing components",
  "workload-hardening": "components",
  availability: "components",
  "revocation-schedule": "schedules",
  "audit-log": "schedules",
  "flow-into-protected-zone": "flows",
  "flow-widened": "flows",
  "flow-new-zone-crossing": "zone crossings",
};

/**
 * Groups identical changes: the same class, severity, direction, summary and before → after
 * values (e.g. one image digest change on every signing component of both sites) become ONE
 * entry whose `subjects` name every component (flow, schedule…) and whose `sites` name every site
 * it applies to. Sites come primary first, then by name; subjects and evidence sorted.
 */
export function groupChanges(env: string, raw: RawChange[], siteOrder: (site: string) => string): SecurityChange[] {
  const groups = new Map<string, RawChange[]>();
  for (const c of raw) {
    const key = JSON.stringify([c.class, c.severity, c.direction, c.summary, stableJson(c.before), stableJson(c.after)]);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out: SecurityChange[] = [];
  for (const list of groups.values()) {
    const first = list[0];
    const subjects = [...new Set(list.map((c) => c.subject))].sort(cmpStr);
    const sites = [...new Set(list.flatMap((c) => (c.site ? [c.site] : [])))].sort((x, y) => cmpStr(siteOrder(x), siteOrder(y)));
    const { site: _site, ...rest } = first;
    out.push({
      ...rest,
      environment: env,
      subject: subjects.length === 1 ? subjects[0] : `${subjects.length} ${GROUP_NOUN[first.class] ?? "subjects"}${sites.length ? ` at ${sites.length === 1 ? "site" : "sites"} ${sites.join(", ")}` : ""}`,
      subjects,
      sites,
      evidence: [...new Set(list.flatMap((c) => c.evidence))],
    });
  }
  return out;
}

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
const stableJson = (v: unknown): string =>
  v === undefined
    ? "undefined"
    : JSON.stringify(v, (_k, x) =>
        isObj(x)
          ? Object.fromEntries(
              Object.keys(x)
                .sort()
                .map((k) => [k, x[k]]),
            )
          : x,
      );

const narrowing = (d: Direction, widening: Severity): Severity => (d === "narrowing" ? "low" : widening);

function classifyFlows(b: TopologyJson, a: TopologyJson, col: Collector) {
  const bc = new Map(b.components.map((c) => [c.id, c]));
  const ac = new Map(a.components.map((c) => [c.id, c]));
  const pairs = (t: TopologyJson, comps: Map<string, ComponentFact>) => new Set(t.flows.map((f) => `${zoneOf(f.from, comps)}→${zoneOf(f.to, comps)}`));
  const beforePairs = pairs(b, bc);
  const newSites = new Set(a.environment.sites.map((s) => s.name).filter((s) => !b.environment.sites.some((x) => x.name === s)));
  const goneSites = new Set(b.environment.sites.map((s) => s.name).filter((s) => !a.environment.sites.some((x) => x.name === s)));
  const d = diffBy(b.flows, a.flows, flowKey);
  const seenCrossing = new Set<string>();

  // A whole new (or removed) site: one line per site instead of one per flow.
  for (const [sites, list, dir] of [
    [newSites, d.added, "widening"],
    [goneSites, d.removed, "narrowing"],
  ] as const) {
    for (const site of sites) {
      const flows = list.filter((f) => f.site === site);
      const comps = dir === "widening" ? ac : bc;
      const into = flows.filter((f) => PROTECTED_ZONES.has(zoneOf(f.to, comps)));
      if (flows.length === 0) continue;
      col.add(
        {
          class: "flow-into-protected-zone",
          severity: narrowing(dir, into.length > 0 ? "high" : "medium"),
          direction: dir,
          subject: `site ${site}`,
          site,
          summary: `${dir === "widening" ? "new" : "removed"} site '${site}': ${flows.length} flows, ${into.length} into protected zones (${[...new Set(into.map((f) => zoneOf(f.to, comps)))].sort().join(", ") || "none"})`,
          after: dir === "widening" ? flows.map(flowLabel) : undefined,
          before: dir === "narrowing" ? flows.map(flowLabel) : undefined,
          evidence: [...new Set(flows.map((f) => f.path))].slice(0, 5),
        },
        flows.map((f) => `flow ${flowKey(f)}|*`),
      );
    }
  }

  for (const f of d.added) {
    if (newSites.has(f.site)) continue;
    const toZone = zoneOf(f.to, ac);
    const fromZone = zoneOf(f.from, ac);
    const covers = [`flow ${flowKey(f)}|*`];
    exposure(f, internetSources(f.from), ac, col, covers, "new");
    if (PROTECTED_ZONES.has(toZone) && fromZone !== "cluster-dns")
      col.add(
        {
          class: "flow-into-protected-zone",
          severity: "high",
          direction: "widening",
          subject: flowLabel(f),
          site: f.site,
          summary: `new flow into the ${toZone} zone from ${fromZone}${f.mtls ? " (mTLS)" : " (no mTLS)"}: ${f.purpose}`,
          after: { port: f.port, protocol: f.protocol, mtls: f.mtls, from: cidrs(f.from) },
          evidence: [f.path],
        },
        covers,
      );
    const pair = `${fromZone}→${toZone}`;
    if (fromZone !== toZone && !beforePairs.has(pair) && !seenCrossing.has(pair)) {
      seenCrossing.add(pair);
      col.add(
        {
          class: "flow-new-zone-crossing",
          severity: PROTECTED_ZONES.has(toZone) ? "high" : "medium",
          direction: "widening",
          subject: `${fromZone} → ${toZone}`,
          site: f.site,
          summary: `first flow ever from the ${fromZone} zone to the ${toZone} zone: ${flowLabel(f)} (${f.purpose})`,
          evidence: [f.path],
        },
        covers,
      );
    }
  }
  for (const f of d.removed) {
    if (goneSites.has(f.site)) continue;
    const toZone = zoneOf(f.to, bc);
    if (PROTECTED_ZONES.has(toZone))
      col.add(
        {
          class: "flow-into-protected-zone",
          severity: "low",
          direction: "narrowing",
          subject: flowLabel(f),
          site: f.site,
          summary: `flow into the ${toZone} zone removed: ${f.purpose}`,
          before: { port: f.port, protocol: f.protocol, mtls: f.mtls },
          evidence: [f.path],
        },
        [`flow ${flowKey(f)}|*`],
      );
  }
  for (const ch of d.changed) {
    const f = ch.after,
      g = ch.before;
    const toZone = zoneOf(f.to, ac);
    const widenedSources = cidrs(f.from).filter((c) => !cidrs(g.from).some((o) => cidrWithin(c, o)));
    const widenedDest = cidrs(f.to).filter((c) => !cidrs(g.to).some((o) => cidrWithin(c, o)));
    const lostMtls = g.mtls && !f.mtls;
    const gainedMtls = !g.mtls && f.mtls;
    const narrowedCidrs = !widenedSources.length && !widenedDest.length && (!same(cidrs(f.from), cidrs(g.from)) || !same(cidrs(f.to), cidrs(g.to)));
    const key = `flow ${flowKey(f)}`;
    const newlyPublic = internetSources(f.from).filter((c) => widenedSources.includes(c));
    if (newlyPublic.length) exposure(f, newlyPublic, ac, col, [`${key}|from.cidrs`], "widened");
    if (widenedSources.length || widenedDest.length || lostMtls) {
      const what = [
        widenedSources.length ? `sources widened to ${cidrs(f.from).join(", ")} (were ${cidrs(g.from).join(", ")})` : "",
        widenedDest.length ? `destinations widened to ${cidrs(f.to).join(", ")} (were ${cidrs(g.to).join(", ")})` : "",
        lostMtls ? "mTLS turned off" : "",
      ]
        .filter(Boolean)
        .join("; ");
      col.add(
        {
          class: PROTECTED_ZONES.has(toZone) ? "flow-into-protected-zone" : "flow-widened",
          severity: PROTECTED_ZONES.has(toZone) ? "high" : "medium",
          direction: "widening",
          subject: flowLabel(f),
          site: f.site,
          summary: `flow widened: ${what}`,
          before: { from: cidrs(g.from), to: cidrs(g.to), mtls: g.mtls },
          after: { from: cidrs(f.from), to: cidrs(f.to), mtls: f.mtls },
          evidence: [f.path],
        },
        [`${key}|from.cidrs`, `${key}|to.cidrs`, `${key}|mtls`],
      );
    } else if (gainedMtls || narrowedCidrs) {
      col.add(
        {
          class: PROTECTED_ZONES.has(toZone) ? "flow-into-protected-zone" : "flow-widened",
          severity: "low",
          direction: "narrowing",
          subject: flowLabel(f),
          site: f.site,
          summary: `flow narrowed: ${[gainedMtls ? "mTLS turned on" : "", narrowedCidrs ? `addresses ${[...cidrs(g.from), ...cidrs(g.to)].join(", ")} → ${[...cidrs(f.from), ...cidrs(f.to)].join(", ")}` : ""].filter(Boolean).join("; ")}`,
          before: { from: cidrs(g.from), to: cidrs(g.to), mtls: g.mtls },
          after: { from: cidrs(f.from), to: cidrs(f.to), mtls: f.mtls },
          evidence: [f.path],
        },
        [`${key}|from.cidrs`, `${key}|to.cidrs`, `${key}|mtls`],
      );
    }
  }
}

/** The internet among a flow's sources: the internet peer, or any address outside the private ranges. */
const internetSources = (e: Endpoint): string[] => (e.type !== "external" ? [] : e.kind === "internet" ? (e.cidrs.length ? e.cidrs : ["internet"]) : e.cidrs.filter((c) => !isPrivate(c)));

/** A component newly reachable from the internet: high unless it is meant to face it (the
 *  repository, the OCSP responder, the RA's applicant pages: ComponentFact.internetFacing). */
function exposure(f: FlowFact, sources: string[], comps: Map<string, ComponentFact>, col: Collector, covers: string[], how: "new" | "widened") {
  if (!sources.length || f.to.type !== "component") return;
  const c = comps.get(f.to.id);
  const facing = !!c?.internetFacing;
  col.add(
    {
      class: "internet-exposure",
      severity: facing ? "medium" : "high",
      direction: "widening",
      subject: flowLabel(f),
      site: f.site,
      summary: `${how === "new" ? "new exposure" : "exposure widened"} to the internet (${sources.join(", ")}) of ${f.to.id}${facing ? ", which is meant to face it" : `, which is NOT meant to face the internet (${c?.kind ?? "unknown"}, ${c?.zone ?? "?"} zone)`}: ${f.purpose}`,
      after: { port: f.port, protocol: f.protocol, from: sources },
      evidence: [f.path],
    },
    covers,
  );
}

function classifyGrants(b: TopologyJson, a: TopologyJson, col: Collector) {
  const d = diffBy(b.grants, a.grants, (g) => `${g.kind} ${g.resource} ${g.key ?? ""} ${g.grantee}`);
  for (const g of d.added.filter((g) => g.kind === "hsm-sign"))
    col.add(
      {
        class: "hsm-grant",
        severity: "high",
        direction: "widening",
        subject: `${g.grantee} → ${g.resource}${g.key ? ` key ${g.key}` : ""}`,
        site: siteOfId(g.grantee),
        summary: `new HSM signing grant: ${g.grantee} may sign with ${g.key ?? g.resource}`,
        after: g,
        evidence: [g.path],
      },
      [`grant ${g.kind} ${g.resource} ${g.key ?? ""} ${g.grantee}|*`],
    );
  for (const g of d.removed.filter((g) => g.kind === "hsm-sign"))
    col.add(
      {
        class: "hsm-grant",
        severity: "low",
        direction: "narrowing",
        subject: `${g.grantee} → ${g.resource}${g.key ? ` key ${g.key}` : ""}`,
        site: siteOfId(g.grantee),
        summary: `HSM signing grant removed: ${g.grantee} no longer signs with ${g.key ?? g.resource}`,
        before: g,
        evidence: [g.path],
      },
      [`grant ${g.kind} ${g.resource} ${g.key ?? ""} ${g.grantee}|*`],
    );
}

function classifyKeysAndHsms(b: TopologyJson, a: TopologyJson, col: Collector) {
  const keys = diffBy(b.keys, a.keys, (k) => `${k.purpose} ${k.ca}`);
  for (const ch of keys.changed)
    col.add(
      {
        class: "key-or-hsm",
        severity: "high",
        direction: "change",
        subject: `${ch.after.purpose} key of ${ch.after.ca}`,
        summary: ch.fields.map((f) => `${f.path}: ${fmt(f.before)} → ${fmt(f.after)}`).join("; "),
        before: ch.before,
        after: ch.after,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      [`key ${ch.key}|*`],
    );
  for (const k of keys.added)
    col.add(
      {
        class: "key-or-hsm",
        severity: "high",
        direction: "change",
        subject: `${k.purpose} key of ${k.ca}`,
        summary: `new ${k.algorithm} key '${k.label}' in ${k.location.hsm}${k.location.type === "hsm-partition" ? `/${k.location.partition}` : ""}`,
        after: k,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      [`key ${k.purpose} ${k.ca}|*`],
    );
  for (const k of keys.removed)
    col.add(
      {
        class: "key-or-hsm",
        severity: "high",
        direction: "change",
        subject: `${k.purpose} key of ${k.ca}`,
        summary: `key '${k.label}' no longer in the model`,
        before: k,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      [`key ${k.purpose} ${k.ca}|*`],
    );

  const hsms = diffBy(b.hsms, a.hsms, (h) => h.name);
  for (const ch of hsms.changed) {
    const relevant = ch.fields.filter((f) => !f.path.startsWith("path"));
    if (!relevant.length) continue;
    const weaker =
      ch.before.certification.scheme !== ch.after.certification.scheme ||
      ("level" in ch.before.certification && "level" in ch.after.certification && String(ch.after.certification.level) < String(ch.before.certification.level));
    col.add(
      {
        class: "key-or-hsm",
        severity: "high",
        direction: weaker ? "widening" : "change",
        subject: `HSM ${ch.after.name}`,
        summary: relevant.map((f) => `${f.path}: ${fmt(f.before)} → ${fmt(f.after)}`).join("; "),
        before: ch.before,
        after: ch.after,
        evidence: [ch.after.path],
      },
      [`hsm ${ch.key}|*`],
    );
  }
  for (const h of hsms.added)
    col.add({ class: "key-or-hsm", severity: "high", direction: "change", subject: `HSM ${h.name}`, summary: `new HSM ${h.vendor} ${h.model}`, after: h, evidence: [h.path] }, [`hsm ${h.name}|*`]);
  for (const h of hsms.removed)
    col.add({ class: "key-or-hsm", severity: "high", direction: "change", subject: `HSM ${h.name}`, summary: `HSM ${h.vendor} ${h.model} removed`, before: h, evidence: [h.path] }, [`hsm ${h.name}|*`]);

  // The key algorithm is also stated per CA in the environment facts.
  const cas = diffBy(b.environment.cas, a.environment.cas, (c) => c.name);
  for (const ch of cas.changed)
    for (const f of ch.fields.filter((f) => f.path === "keyAlgorithm"))
      col.add(
        {
          class: "key-or-hsm",
          severity: "high",
          direction: "change",
          subject: `CA ${ch.key}`,
          summary: `CA key algorithm ${fmt(f.before)} → ${fmt(f.after)}`,
          before: f.before,
          after: f.after,
          evidence: [`environments/${a.environment.name}.ts`],
        },
        [`ca ${ch.key}|keyAlgorithm`],
      );
}

const verbsOf = (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) => new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))));

function classifyRoles(b: TopologyJson, a: TopologyJson, col: Collector) {
  const d = diffBy(b.roles, a.roles, (r) => r.role);
  const describe = (role: string, before: (typeof b.roles)[number] | undefined, after: (typeof a.roles)[number] | undefined) => {
    const bg = new Set(before?.groups ?? []),
      ag = new Set(after?.groups ?? []);
    const groupsAdded = [...ag].filter((g) => !bg.has(g)),
      groupsRemoved = [...bg].filter((g) => !ag.has(g));
    const bb = new Map((before?.bindings ?? []).map((x) => [`${x.site}/${x.zone}`, verbsOf(x.rules)]));
    const ab = new Map((after?.bindings ?? []).map((x) => [`${x.site}/${x.zone}`, verbsOf(x.rules)]));
    const gained: string[] = [],
      lost: string[] = [];
    for (const [ns, v] of ab) {
      const old = bb.get(ns) ?? new Set();
      const plus = [...v].filter((x) => !old.has(x));
      if (plus.length) gained.push(`${ns}: ${plus.join(", ")}`);
    }
    for (const [ns, v] of bb) {
      const now = ab.get(ns) ?? new Set();
      const minus = [...v].filter((x) => !now.has(x));
      if (minus.length) lost.push(`${ns}: ${minus.join(", ")}`);
    }
    const widening = groupsAdded.length > 0 || gained.length > 0;
    const parts = [
      groupsAdded.length ? `groups added: ${groupsAdded.join(", ")}` : "",
      groupsRemoved.length ? `groups removed: ${groupsRemoved.join(", ")}` : "",
      gained.length ? `powers gained: ${gained.join("; ")}` : "",
      lost.length ? `powers lost: ${lost.join("; ")}` : "",
    ].filter(Boolean);
    if (!parts.length) return;
    col.add(
      {
        class: "trusted-role-binding",
        severity: widening ? "high" : "low",
        direction: widening ? (groupsRemoved.length || lost.length ? "change" : "widening") : "narrowing",
        subject: `role ${role}`,
        summary: parts.join("; "),
        before: before ? { groups: before.groups } : undefined,
        after: after ? { groups: after.groups } : undefined,
        evidence: [`constructs/trusted-roles.ts`, `environments/${a.environment.name}.ts`],
      },
      [`role ${role}|*`],
    );
  };
  for (const r of d.added) describe(r.role, undefined, r);
  for (const r of d.removed) describe(r.role, r, undefined);
  for (const ch of d.changed) describe(ch.key, ch.before, ch.after);
}

function classifyComponents(b: TopologyJson, a: TopologyJson, col: Collector) {
  const d = diffBy(b.components, a.components, (c) => c.id);
  for (const ch of d.changed) {
    const x = ch.before,
      y = ch.after;
    const key = `component ${y.id}`;
    if (x.image !== y.image && (x.signing || y.signing))
      col.add(
        { class: "signing-image", severity: "high", direction: "change", subject: y.id, site: y.site, summary: `signing image ${fmt(x.image)} → ${fmt(y.image)}`, before: x.image, after: y.image, evidence: [y.path] },
        [`${key}|image`],
      );
    if (y.online && !y.standby) {
      if (y.replicas !== x.replicas)
        col.add(
          {
            class: "availability",
            severity: y.replicas < x.replicas ? "medium" : "low",
            direction: y.replicas < x.replicas ? "widening" : "narrowing",
            subject: y.id,
            site: y.site,
            summary: `replicas ${x.replicas} → ${y.replicas}`,
            before: x.replicas,
            after: y.replicas,
            evidence: [y.path],
          },
          [`${key}|replicas`],
        );
      for (const prop of ["pdb", "spread"] as const)
        if (x[prop] !== y[prop])
          col.add(
            {
              class: "availability",
              severity: y[prop] ? "low" : "medium",
              direction: y[prop] ? "narrowing" : "widening",
              subject: y.id,
              site: y.site,
              summary: `${prop === "pdb" ? "PodDisruptionBudget" : "topology spread"} ${y[prop] ? "added" : "removed"}`,
              before: x[prop],
              after: y[prop],
              evidence: [y.path],
            },
            [`${key}|${prop}`],
          );
    }
    if (x.hardening && y.hardening) {
      const hf = leafDiff(x.hardening, y.hardening, "hardening");
      const safe: Record<string, boolean> = {
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilitiesDropAll: true,
        seccompRuntimeDefault: true,
        automountServiceAccountToken: false,
        resourcesSet: true,
        imageByDigest: true,
      };
      const weaker = hf.filter((f) => {
        const p = f.path.split(".")[1];
        return p in safe ? f.after !== safe[p] : p === "optOuts" && y.hardening!.optOuts.length > x.hardening!.optOuts.length;
      });
      if (hf.length)
        col.add(
          {
            class: "workload-hardening",
            severity: weaker.length ? (y.signing ? "high" : "medium") : "low",
            direction: weaker.length ? "widening" : "narrowing",
            subject: y.id,
            site: y.site,
            summary: hf.map((f) => `${f.path.replace(/^hardening\./, "")}: ${fmt(f.before)} → ${fmt(f.after)}`).join("; "),
            evidence: [y.path],
          },
          hf.map((f) => `${key}|${f.path}`),
        );
    }
  }
  for (const y of d.added) {
    if (y.hardening?.optOuts.length)
      col.add({
        class: "workload-hardening",
        severity: y.signing ? "high" : "medium",
        direction: "widening",
        subject: y.id,
        site: y.site,
        summary: `new component with opt-outs: ${y.hardening.optOuts.map((o) => `${o.prop} (${o.reason})`).join("; ")}`,
        evidence: [y.path],
      });
    if (y.signing) col.add({ class: "signing-image", severity: "high", direction: "change", subject: y.id, site: y.site, summary: `new signing component runs ${fmt(y.image)}`, after: y.image, evidence: [y.path] });
  }
}

/** The time-stamping authority: what its tokens assert (policy, accuracy, certificate) and the
 *  clock behind them (RFC 3161 2.1, 2.4.2). */
function classifyTsa(b: TopologyJson, a: TopologyJson, col: Collector) {
  const x = b.environment.tsa,
    y = a.environment.tsa;
  const evidence = [`environments/${a.environment.name}.ts`];
  const add = (severity: "high" | "medium" | "low", direction: "widening" | "narrowing" | "change", summary: string, before?: unknown, after?: unknown) =>
    col.add({ class: "time-stamping", severity, direction, subject: `time-stamping authority ${y?.name ?? x?.name}`, summary, before, after, evidence }, ["environment|tsa"]);
  if (!x && !y) return;
  if (!x) return add("high", "widening", `new time-stamping authority (policy ${y!.policyOid}, accuracy ${y!.accuracyMicros / 1e6} s)`, undefined, y);
  if (!y) return add("high", "change", "time-stamping authority removed", x, undefined);
  if (x.policyOid !== y.policyOid) add("high", "change", `TSA policy ${x.policyOid} → ${y.policyOid}`, x.policyOid, y.policyOid);
  if (x.accuracyMicros !== y.accuracyMicros)
    add(
      y.accuracyMicros > x.accuracyMicros ? "high" : "low",
      y.accuracyMicros > x.accuracyMicros ? "widening" : "narrowing",
      `TSA accuracy ${x.accuracyMicros / 1e6} s → ${y.accuracyMicros / 1e6} s`,
      x.accuracyMicros,
      y.accuracyMicros,
    );
  if (!jsonEqual(x.certificate, y.certificate) || x.profile !== y.profile || x.ca !== y.ca)
    add("high", "change", `TSA certificate: ${x.ca}/${x.profile} → ${y.ca}/${y.profile}`, { ca: x.ca, profile: x.profile, ...x.certificate }, { ca: y.ca, profile: y.profile, ...y.certificate });
  if (!jsonEqual(x.key, y.key)) add("high", "change", `TSA key ${x.key.partition}/${x.key.label} (${x.key.algorithm}) → ${y.key.partition}/${y.key.label} (${y.key.algorithm})`, x.key, y.key);
  const before = new Map(x.ntp.map((s) => [s.name, s]));
  const after = new Map(y.ntp.map((s) => [s.name, s]));
  for (const [n, s] of after)
    if (!jsonEqual(before.get(n), s))
      add(s.country !== "LA" ? "high" : "medium", "change", `TSA time source ${n} ${before.has(n) ? "changed" : "added"}: ${s.address}:${s.port} (${s.facility}, ${s.country})`, before.get(n), s);
  for (const [n, s] of before) if (!after.has(n)) add("medium", "widening", `TSA time source ${n} removed (${s.address})`, s, undefined);
}

function classifyEnvironmentFacts(b: TopologyJson, a: TopologyJson, col: Collector) {
  // The tier decides which controls apply: any change of it is reviewed by two people (a
  // downgrade silently drops the production controls; policy LCA-TIER-01 derives it).
  if (b.environment.tier !== a.environment.tier) {
    const order = { dev: 0, staging: 1, production: 2 } as const;
    const down = order[a.environment.tier] < order[b.environment.tier];
    col.add(
      {
        class: "tier-change",
        severity: "high",
        direction: down ? "widening" : "change",
        subject: "environment tier",
        summary: `tier ${b.environment.tier} → ${a.environment.tier}${down ? ": controls of the higher tier no longer apply" : ""}`,
        before: b.environment.tier,
        after: a.environment.tier,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      ["environment|tier"],
    );
  }
  // BR 5.7.1.1 (2)-(4): a site changing role moves where the CA signs and which database is
  // written: the failover or the failback itself (lanic-ca failover, docs/runbooks/failover.md).
  for (const y of a.environment.sites) {
    const x = b.environment.sites.find((s) => s.name === y.name);
    if (x && x.role !== y.role)
      col.add(
        {
          class: "failover",
          severity: "high",
          direction: "change",
          subject: `site ${y.name}`,
          site: y.name,
          summary: `site role ${x.role} → ${y.role}${y.role === "primary" ? " (its replica clusters promoted, standby signing services scaled up, CronJobs resumed)" : " (its clusters become replicas, signing services standbys)"}`,
          before: x.role,
          after: y.role,
          evidence: [`environments/${a.environment.name}.ts`],
        },
        [`environment|sites`],
      );
  }
  const x = b.environment.auditLog,
    y = a.environment.auditLog;
  if (x.sink !== y.sink)
    col.add(
      {
        class: "audit-log",
        severity: "high",
        direction: "change",
        subject: "audit log sink",
        summary: `audit log sink ${x.sink} → ${y.sink}`,
        before: x.sink,
        after: y.sink,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      ["environment|auditLog.sink"],
    );
  if (x.retentionDays !== y.retentionDays)
    col.add(
      {
        class: "audit-log",
        severity: y.retentionDays < x.retentionDays ? "high" : "low",
        direction: y.retentionDays < x.retentionDays ? "widening" : "narrowing",
        subject: "audit log retention",
        summary: `retention ${x.retentionDays} → ${y.retentionDays} days`,
        before: x.retentionDays,
        after: y.retentionDays,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      ["environment|auditLog.retentionDays"],
    );
  if (x.integrityCheckIntervalDays !== y.integrityCheckIntervalDays)
    col.add(
      {
        class: "audit-log",
        severity: y.integrityCheckIntervalDays > x.integrityCheckIntervalDays ? "medium" : "low",
        direction: y.integrityCheckIntervalDays > x.integrityCheckIntervalDays ? "widening" : "narrowing",
        subject: "audit log integrity check",
        summary: `integrity check every ${x.integrityCheckIntervalDays} → ${y.integrityCheckIntervalDays} days`,
        before: x.integrityCheckIntervalDays,
        after: y.integrityCheckIntervalDays,
        evidence: [`environments/${a.environment.name}.ts`],
      },
      ["environment|auditLog.integrityCheckIntervalDays"],
    );
  classifyTsa(b, a, col);
  // Flows and firewall rows carry the retention in their purpose text: covered here.
  if (x.retentionDays !== y.retentionDays || x.sink !== y.sink) col.covered.add("purpose-mentions-audit");

  const s = diffBy(b.schedules, a.schedules, (s) => `${s.kind} ${s.ca ?? ""} ${s.path.split("/")[1] ?? ""}`);
  const env = a.environment.name;
  const label = (k: string) => (k === "crl" ? "CRL" : k === "ocsp" ? "OCSP" : k === "ca-crl" ? "CA CRL" : "audit integrity");
  const scheduleSubject = (x: { kind: string; ca?: string }, site: string | undefined) => `${label(x.kind)} schedule${x.ca ? ` of ${x.ca}` : ""}${site ? ` (site ${site})` : ""}`;
  for (const ch of s.changed) {
    const f = ch.fields.filter((f) => f.path === "intervalHours" || f.path === "validityHours");
    if (!f.length) continue;
    const looser = f.some((c) => (c.after as number) > (c.before as number));
    const site = siteOfPath(env, ch.after.path);
    col.add(
      {
        class: ch.after.kind === "audit-integrity" ? "audit-log" : "revocation-schedule",
        severity: looser ? "medium" : "low",
        direction: looser ? "widening" : "narrowing",
        subject: scheduleSubject(ch.after, site),
        site,
        summary: `${label(ch.after.kind)} ${f.map((c) => `${c.path === "intervalHours" ? "every" : "valid"} ${c.before} h → ${c.after} h`).join("; ")}`,
        // Only the changed values, so the same change on several schedules groups into one entry.
        before: Object.fromEntries(f.map((c) => [c.path, c.before])),
        after: Object.fromEntries(f.map((c) => [c.path, c.after])),
        evidence: [ch.after.path],
      },
      f.map((c) => `schedule ${ch.key}|${c.path}`),
    );
  }
  for (const r of s.removed)
    col.add(
      {
        class: "revocation-schedule",
        severity: "high",
        direction: "widening",
        subject: scheduleSubject(r, siteOfPath(env, r.path)),
        site: siteOfPath(env, r.path),
        summary: `schedule removed (nothing publishes ${label(r.kind)} any more)`,
        before: r,
        evidence: [r.path],
      },
      [`schedule ${r.kind} ${r.ca ?? ""} ${r.path.split("/")[1] ?? ""}|*`],
    );
}

function classifyPolicy(env: string, b: PolicySnapshot | undefined, a: PolicySnapshot | undefined, col: Collector, notes: Note[]) {
  if (!b?.exceptions && !a?.exceptions && !b?.controls && !a?.controls) {
    notes.push({
      environment: env,
      message: "no policy report (cdktf.out/policy/<env>.json) or policy/exceptions file on either side: exception and control changes could not be checked (synth writes the policy reports)",
    });
    return;
  }
  const ex = diffBy<ExceptionFact>(b?.exceptions ?? [], a?.exceptions ?? [], (e) => `${e.control} ${e.finding}`);
  for (const e of ex.added)
    col.add({
      class: "policy-exception",
      severity: "high",
      direction: "widening",
      subject: `${e.control} @ ${e.finding}`,
      summary: `exception added until ${e.expires ?? "(no expiry)"}${e.approvedBy ? `, approved by ${e.approvedBy}` : ""}${e.reason ? `: ${e.reason}` : ""}`,
      after: e,
      evidence: a?.sources ?? [],
    });
  for (const e of ex.removed)
    col.add({ class: "policy-exception", severity: "low", direction: "narrowing", subject: `${e.control} @ ${e.finding}`, summary: "exception removed: the control applies again", before: e, evidence: b?.sources ?? [] });
  for (const ch of ex.changed) {
    const extended = (ch.after.expires ?? "9999") > (ch.before.expires ?? "9999");
    col.add({
      class: "policy-exception",
      severity: extended ? "high" : "low",
      direction: extended ? "widening" : ch.after.expires !== ch.before.expires ? "narrowing" : "change",
      subject: `${ch.after.control} @ ${ch.after.finding}`,
      summary: ch.fields.map((f) => `${f.path}: ${fmt(f.before)} → ${fmt(f.after)}`).join("; ") + (extended ? " (extended)" : ""),
      before: ch.before,
      after: ch.after,
      evidence: a?.sources ?? [],
    });
  }
  if (b?.controls && a?.controls) {
    const c = diffBy<ControlFact>(b.controls, a.controls, (c) => c.id);
    for (const x of c.removed) col.add({ class: "policy-control", severity: "high", direction: "widening", subject: x.id, summary: "policy control no longer checked", before: x, evidence: b.sources });
    for (const ch of c.changed) {
      const off = ch.before.enabled && !ch.after.enabled;
      const downgraded = ch.before.severity === "error" && ch.after.severity !== "error";
      const on = !ch.before.enabled && ch.after.enabled;
      if (off || downgraded || on)
        col.add({
          class: "policy-control",
          severity: off || downgraded ? "high" : "low",
          direction: off || downgraded ? "widening" : "narrowing",
          subject: ch.key,
          summary: off ? "policy control turned off" : downgraded ? `severity ${ch.before.severity} → ${ch.after.severity}` : "policy control turned on",
          before: ch.before,
          after: ch.after,
          evidence: a.sources,
        });
    }
  } else if (b?.controls || a?.controls) {
    notes.push({ environment: env, message: `policy report present on the ${b?.controls ? "base" : "head"} side only: control changes not compared` });
  }
}

const fmt = (v: unknown): string => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));

// ---------------------------------------------------------------------------------------------
// other changes

function otherChanges(b: TopologyJson, a: TopologyJson, col: Collector): OtherChange[] {
  const out: OtherChange[] = [];
  const env = a.environment.name;
  const isCovered = (entity: string, path: string) => col.covered.has(`${entity}|*`) || col.covered.has(`${entity}|${path}`) || (col.covered.has("purpose-mentions-audit") && /purpose$/.test(path));
  const push = <T>(group: (x: T) => string, entityKind: string, key: (x: T) => string, d: EntityDiff<T>) => {
    for (const x of d.added) if (!isCovered(`${entityKind} ${key(x)}`, "")) out.push({ environment: env, group: group(x), entity: `${entityKind} ${key(x)}`, kind: "added", fields: [{ path: "(whole)", after: x }] });
    for (const x of d.removed) if (!isCovered(`${entityKind} ${key(x)}`, "")) out.push({ environment: env, group: group(x), entity: `${entityKind} ${key(x)}`, kind: "removed", fields: [{ path: "(whole)", before: x }] });
    for (const ch of d.changed) {
      const fields = ch.fields.filter((f) => !isCovered(`${entityKind} ${ch.key}`, f.path));
      if (fields.length) out.push({ environment: env, group: group(ch.after), entity: `${entityKind} ${ch.key}`, kind: "changed", fields });
    }
  };
  const endpointGroup = (e: Endpoint) => (e.type === "component" ? e.id : `external ${e.kind}`);
  push(
    (c) => c.id,
    "component",
    (c) => c.id,
    diffBy(b.components, a.components, (c) => c.id),
  );
  push((f) => endpointGroup(f.from), "flow", flowKey, diffBy(b.flows, a.flows, flowKey));
  push(
    (z) => `zone ${z.id}`,
    "zone",
    (z) => z.id,
    diffBy(b.zones, a.zones, (z) => z.id),
  );
  push(
    (h) => `HSM ${h.name}`,
    "hsm",
    (h) => h.name,
    diffBy(b.hsms, a.hsms, (h) => h.name),
  );
  push(
    (k) => `CA ${k.ca}`,
    "key",
    (k) => `${k.purpose} ${k.ca}`,
    diffBy(b.keys, a.keys, (k) => `${k.purpose} ${k.ca}`),
  );
  const gk = (g: TopologyJson["grants"][number]) => `${g.kind} ${g.resource} ${g.key ?? ""} ${g.grantee}`;
  push((g) => g.grantee, "grant", gk, diffBy(b.grants, a.grants, gk));
  push(
    (r) => `role ${r.role}`,
    "role",
    (r) => r.role,
    diffBy(b.roles, a.roles, (r) => r.role),
  );
  const sk = (s: TopologyJson["schedules"][number]) => `${s.kind} ${s.ca ?? ""} ${s.path.split("/")[1] ?? ""}`;
  push((s) => `schedule ${s.kind}${s.ca ? ` ${s.ca}` : ""}`, "schedule", sk, diffBy(b.schedules, a.schedules, sk));
  const fk = (r: TopologyJson["firewall"][number]) => `${r.site} ${r.direction} ${r.source} ${r.destination} ${r.port}/${r.protocol}`;
  push((r) => `firewall ${r.site}`, "firewall", fk, diffBy(b.firewall, a.firewall, fk));
  push(
    (c) => `CA ${c.name}`,
    "ca",
    (c) => c.name,
    diffBy(b.environment.cas, a.environment.cas, (c) => c.name),
  );
  const { cas: _b, ...envB } = b.environment;
  const { cas: _a, ...envA } = a.environment;
  const envFields = leafDiff(envB, envA).filter((f) => !isCovered("environment", f.path));
  if (envFields.length) out.push({ environment: env, group: "environment", entity: "environment", kind: "changed", fields: envFields });
  return out.sort((x, y) => (x.group < y.group ? -1 : x.group > y.group ? 1 : x.entity < y.entity ? -1 : x.entity > y.entity ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// stacks

interface TfJson {
  resource?: Record<string, Record<string, unknown>>;
}

/** Resource-level diff of the Terraform JSON of each stack (the `//` metadata is ignored). */
export function diffStacks(before: Record<string, unknown>, after: Record<string, unknown>): StackChange[] {
  const out: StackChange[] = [];
  const resources = (tf: unknown) => {
    const m = new Map<string, unknown>();
    for (const [type, byName] of Object.entries((tf as TfJson)?.resource ?? {}))
      for (const [name, body] of Object.entries(byName)) {
        const { "//": _meta, ...rest } = (body ?? {}) as Record<string, unknown>;
        m.set(`${type}.${name}`, rest);
      }
    return m;
  };
  for (const id of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const b = resources(before[id]),
      a = resources(after[id]);
    const added = [...a.keys()].filter((k) => !b.has(k)).sort();
    const removed = [...b.keys()].filter((k) => !a.has(k)).sort();
    const changed = [...a.keys()]
      .filter((k) => b.has(k) && !same(b.get(k), a.get(k)))
      .sort()
      .map((k) => ({ address: k, paths: leafDiff(b.get(k), a.get(k)).map((f) => f.path) }));
    if (!added.length && !removed.length && !changed.length) continue;
    out.push({ stack: id, kind: !(id in before) ? "added" : !(id in after) ? "removed" : "changed", added, removed, changed });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the whole review

export function diffEnvironment(base: EnvironmentSnapshot | null, head: EnvironmentSnapshot | null, notes: Note[]): EnvironmentDiff {
  const name = (head ?? base)!.name;
  const stacks = diffStacks(base?.stacks ?? {}, head?.stacks ?? {});
  if (!base?.topology || !head?.topology) {
    const status = !base?.topology && !head?.topology ? "unchanged" : !base?.topology ? "added" : "removed";
    if (status !== "unchanged") notes.push({ environment: name, message: `environment ${status === "added" ? "is new" : "was removed"}: the whole topology needs review; each part is not classified one by one` });
    return {
      name,
      status,
      security:
        status === "unchanged"
          ? []
          : [
              {
                class: "flow-into-protected-zone",
                severity: "high",
                direction: status === "added" ? "widening" : "narrowing",
                environment: name,
                subject: `environment ${name}`,
                subjects: [`environment ${name}`],
                sites: [],
                summary: `environment ${status}`,
                evidence: [`environments/${name}.ts`],
              },
            ],
      other: [],
      stacks,
    };
  }
  const b = base.topology,
    a = head.topology;
  const col = new Collector(name);
  classifyFlows(b, a, col);
  classifyGrants(b, a, col);
  classifyKeysAndHsms(b, a, col);
  classifyRoles(b, a, col);
  classifyComponents(b, a, col);
  classifyEnvironmentFacts(b, a, col);
  const policyNotes: Note[] = [];
  classifyPolicy(name, base.policy, head.policy, col, policyNotes);
  const other = otherChanges(b, a, col);

  // Honest notes: what the model cannot see.
  for (const s of stacks)
    for (const c of s.changed.filter((c) => c.address.startsWith("kubernetes_manifest.")))
      notes.push({
        environment: name,
        message: `${s.stack}: ${c.address} changed inside its opaque manifest (${c.paths.slice(0, 4).join(", ")}${c.paths.length > 4 ? ", …" : ""}); the model records only a few facts of it (e.g. instances, image): review the raw change`,
      });
  if (!col.security.length && !other.length && stacks.length)
    notes.push({ environment: name, message: "the Terraform stacks changed while the topology model did not: these changes are not classified; review the stack changes below" });

  if (col.security.length || other.length || stacks.length) notes.push(...policyNotes);
  const siteRank = new Map([...b.environment.sites, ...a.environment.sites].map((s) => [s.name, `${s.role === "primary" ? 0 : 1} ${s.name}`]));
  const grouped = groupChanges(name, col.security, (s) => siteRank.get(s) ?? `2 ${s}`);
  const order = (x: SecurityChange) => `${2 - SEVERITY_ORDER[x.severity]} ${x.class} ${x.subjects[0]}`;
  const security = grouped.sort((x, y) => (order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0));
  return { name, status: security.length || other.length || stacks.length ? "changed" : "unchanged", security, other, stacks };
}

export const APPROVALS: Record<"two-person" | "security-officer" | "standard", Omit<RequiredApproval, "reasons" | "level">> = {
  // NCSSR 1.2.1 / BR 5.2.2: changes to the CA's high-security zones need multi-person control.
  "two-person": { roles: ["security-officer", "ca-system-administrator"], approvers: 2, label: "approved:two-person" },
  "security-officer": { roles: ["security-officer"], approvers: 1, label: "approved:security-officer" },
  standard: { roles: [], approvers: 1, label: null },
};

export function requiredApproval(envs: EnvironmentDiff[]): RequiredApproval {
  const all = envs.flatMap((e) => e.security);
  const top = all.reduce<Severity>((m, c) => (SEVERITY_ORDER[c.severity] > SEVERITY_ORDER[m] ? c.severity : m), "low");
  const level = top === "high" ? "two-person" : top === "medium" ? "security-officer" : "standard";
  return {
    level,
    ...APPROVALS[level],
    reasons: all.filter((c) => c.severity === top && top !== "low").map((c) => `${c.environment}: [${c.class}] ${c.subject}: ${c.summary}${c.subjects.length > 1 ? ` (${c.subjects.join(", ")})` : ""}`),
  };
}

export function buildReport(base: string, head: string, pairs: { base: EnvironmentSnapshot | null; head: EnvironmentSnapshot | null }[], notes: Note[] = []): DiffReport {
  const envs = pairs.map((p) => diffEnvironment(p.base, p.head, notes));
  const sec = envs.flatMap((e) => e.security);
  return {
    schemaVersion: 2,
    base,
    head,
    environments: envs,
    requiredApproval: requiredApproval(envs),
    summary: {
      high: sec.filter((c) => c.severity === "high").length,
      medium: sec.filter((c) => c.severity === "medium").length,
      low: sec.filter((c) => c.severity === "low").length,
      narrowing: sec.filter((c) => c.direction === "narrowing").length,
      other: envs.reduce((n, e) => n + e.other.length, 0),
      stackResources: envs.reduce((n, e) => n + e.stacks.reduce((m, s) => m + s.added.length + s.removed.length + s.changed.length, 0), 0),
    },
    notes,
  };
}

export type { ChangeClass };
