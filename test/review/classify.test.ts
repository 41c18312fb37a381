/**
 * GIVEN production, WHEN one change is applied to a copy of it, THEN the diff classifies it as
 * expected (class, severity, direction) and asks for the right approval.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { FlowFact, TopologyJson } from "../../constructs/model.js";
import { stableStringify } from "../../constructs/model.js";
import { buildReport, jsonEqual, leafDiff } from "../../review/diff.js";
import { renderMarkdown, renderTerminal } from "../../review/render.js";
import type { PolicySnapshot } from "../../review/policy-facts.js";
import type { ApprovalLevel, ChangeClass, Direction, SecurityChange, Severity } from "../../review/types.js";
import { productionModel, snapshot, type Mutable } from "./helpers.js";
import type { EnvironmentInput } from "../../environments/index.js";

type Env = Mutable<EnvironmentInput>;
const SIGNING_CA = "lao-gov-signing-ca-1";
const NEW_DIGEST = `registry.lanic.gov.la/lanic-ca/pki-services@sha256:${"ab".repeat(32)}`;

const isFlow = (from: string, to: string, port: number) => (f: FlowFact) => f.site === "lanic" && f.from.type === "component" && f.from.id === from && f.to.type === "component" && f.to.id === to && f.port === port;

interface Case {
  name: string;
  env?: (e: Env) => void;
  model?: (m: TopologyJson) => void;
  policy?: [PolicySnapshot, PolicySnapshot];
  expect: { class: ChangeClass; severity: Severity; direction: Direction }[];
  approval: ApprovalLevel;
  /** When given: exactly these security entries (identical changes grouped into one). */
  entries?: (head: TopologyJson) => Pick<SecurityChange, "class" | "subject" | "subjects" | "sites">[];
}

/** The signing components that run the pki-services image, by id (both sites). */
const signingWithImage = (m: TopologyJson) =>
  m.components
    .filter((c) => c.signing && c.image)
    .map((c) => c.id)
    .sort();

const exceptions = (expires: string | null, controls?: { id: string; enabled: boolean; severity?: string }[]): PolicySnapshot => ({
  exceptions: expires ? [{ control: "NET-001", finding: "production/production-lanic/ra", expires, reason: "migration window for the RA", approvedBy: "security-officer", ticket: "SEC-42" }] : [],
  controls: controls ?? null,
  sources: ["policy/exceptions/production.yaml"],
});

const CASES: Case[] = [
  {
    name: "TSA accuracy loosened from 1 s to 2 s",
    env: (e) => {
      e.tsa!.accuracy = { seconds: 2 };
    },
    expect: [{ class: "time-stamping", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "TSA time source moved abroad",
    env: (e) => {
      e.tsa!.ntp.sources[0] = { ...e.tsa!.ntp.sources[0], country: "TH", facility: "a pool server abroad" };
    },
    expect: [{ class: "time-stamping", severity: "high", direction: "change" }],
    approval: "two-person",
  },
  {
    name: "failover: the backup site becomes the primary (lanic-ca failover)",
    env: (e) => {
      for (const s of e.sites) s.role = s.role === "primary" ? "backup" : "primary";
    },
    expect: [{ class: "failover", severity: "high", direction: "change" }],
    approval: "two-person",
  },
  {
    name: "new flow from the public zone into the issuing zone",
    model: (m) => {
      const f = m.flows.find(isFlow("lanic/ra", `lanic/issuing-ca-${SIGNING_CA}`, 8443))!;
      m.flows.push({ ...structuredClone(f), from: { type: "component", id: "lanic/repository" }, purpose: "shortcut" });
    },
    expect: [
      { class: "flow-into-protected-zone", severity: "high", direction: "widening" },
      { class: "flow-new-zone-crossing", severity: "high", direction: "widening" },
    ],
    approval: "two-person",
  },
  {
    name: "mTLS turned off on RA → issuing CA (widened)",
    model: (m) => {
      m.flows.find(isFlow("lanic/ra", `lanic/issuing-ca-${SIGNING_CA}`, 8443))!.mtls = false;
    },
    expect: [{ class: "flow-into-protected-zone", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "government networks widened (RA front end and TSA reachable from more addresses)",
    env: (e) => {
      e.ra.governmentNetworks = ["10.0.0.0/8"];
    },
    // the TSA's zone is protected: more sources into it is high
    expect: [
      { class: "flow-widened", severity: "medium", direction: "widening" },
      { class: "flow-into-protected-zone", severity: "high", direction: "widening" },
    ],
    approval: "two-person",
  },
  {
    name: "RA front end opened to 0.0.0.0/0: an internet exposure of a component not meant to face it",
    env: (e) => {
      e.ra.governmentNetworks = ["0.0.0.0/0"];
    },
    expect: [
      { class: "internet-exposure", severity: "high", direction: "widening" },
      { class: "flow-widened", severity: "medium", direction: "widening" },
    ],
    approval: "two-person",
  },
  {
    name: "a new internet flow into the repository (meant to face it): medium",
    model: (m) => {
      const f = m.flows.find((x) => x.site === "lanic" && x.to.type === "component" && x.to.id === "lanic/repository" && x.from.type === "external" && x.from.kind === "internet")!;
      m.flows.push({ ...structuredClone(f), port: 8081, purpose: "second HTTP port" });
    },
    expect: [{ class: "internet-exposure", severity: "medium", direction: "widening" }],
    approval: "security-officer",
  },
  {
    name: "tier downgraded (production → staging): two people",
    model: (m) => {
      m.environment.tier = "staging";
    },
    expect: [{ class: "tier-change", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "government networks narrowed",
    env: (e) => {
      e.ra.governmentNetworks = ["10.60.0.0/16"];
    },
    expect: [
      { class: "flow-widened", severity: "low", direction: "narrowing" },
      { class: "flow-into-protected-zone", severity: "low", direction: "narrowing" },
    ],
    approval: "standard",
  },
  {
    name: "flow RA → issuing CA removed (narrowing)",
    model: (m) => {
      m.flows = m.flows.filter((f) => !isFlow("lanic/ra", `lanic/issuing-ca-${SIGNING_CA}`, 8443)(f));
    },
    expect: [{ class: "flow-into-protected-zone", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "new HSM signing grant",
    model: (m) => {
      m.grants.push({ kind: "hsm-sign", resource: "partition/issuing", key: `${SIGNING_CA}-2026`, grantee: "lanic/repository", path: "production/production-lanic/repository" });
    },
    expect: [{ class: "hsm-grant", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "HSM signing grant removed",
    model: (m) => {
      m.grants = m.grants.filter((g) => !(g.kind === "hsm-sign" && g.grantee === `lanic/crl-publisher-${SIGNING_CA}`));
    },
    expect: [{ class: "hsm-grant", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "issuing CA key algorithm RSA_3072 → RSA_4096",
    env: (e) => {
      e.issuingCas[0].keyAlgorithm = "RSA_4096";
      e.hsm.partitions[0].keys[0].algorithm = "RSA_4096";
    },
    expect: [{ class: "key-or-hsm", severity: "high", direction: "change" }],
    approval: "two-person",
  },
  {
    name: "HSM FIPS level 3 → 2",
    env: (e) => {
      (e.hsm.certification as { level: number }).level = 2;
    },
    expect: [{ class: "key-or-hsm", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "CA key moved to another partition",
    model: (m) => {
      const k = m.keys.find((k) => k.purpose === "issuing-ca" && k.ca === SIGNING_CA)!;
      if (k.location.type === "hsm-partition") k.location.partition = "ocsp";
    },
    expect: [{ class: "key-or-hsm", severity: "high", direction: "change" }],
    approval: "two-person",
  },
  {
    name: "a second group bound to the RA operator role",
    env: (e) => {
      e.roles["ra-operator"] = ["lanic-ca-production:ra-operator", "contractors"];
    },
    expect: [{ class: "trusted-role-binding", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "a group removed from a role (narrowing)",
    env: (e) => {
      delete e.roles["va-operator"];
    },
    expect: [{ class: "trusted-role-binding", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "signing image digest changed",
    env: (e) => {
      e.images.pkiServices = NEW_DIGEST;
    },
    expect: [{ class: "signing-image", severity: "high", direction: "change" }],
    approval: "two-person",
  },
  {
    // One digest change reaches every signing component of both sites (18 today: issuing CA,
    // OCSP signer, CRL publisher and its watcher, per issuing CA, and the TSA, per site): ONE
    // entry naming all.
    name: "signing image digest changed on 18 signing components: one grouped entry",
    env: (e) => {
      e.images.pkiServices = NEW_DIGEST;
    },
    expect: [{ class: "signing-image", severity: "high", direction: "change" }],
    approval: "two-person",
    entries: (head) => {
      const ids = signingWithImage(head);
      expect(ids).toHaveLength(18);
      return [{ class: "signing-image", subject: "18 signing components at sites lanic, backup", subjects: ids, sites: ["lanic", "backup"] }];
    },
  },
  {
    name: "different digests on the signing components are not grouped together",
    env: (e) => {
      e.images.pkiServices = NEW_DIGEST;
    },
    model: (m) => {
      m.components.find((c) => c.id === `backup/issuing-ca-${SIGNING_CA}`)!.image = NEW_DIGEST.replace(/ab/g, "ef");
    },
    expect: [{ class: "signing-image", severity: "high", direction: "change" }],
    approval: "two-person",
    entries: (head) => [
      { class: "signing-image", subject: "17 signing components at sites lanic, backup", subjects: signingWithImage(head).filter((id) => id !== `backup/issuing-ca-${SIGNING_CA}`), sites: ["lanic", "backup"] },
      { class: "signing-image", subject: `backup/issuing-ca-${SIGNING_CA}`, subjects: [`backup/issuing-ca-${SIGNING_CA}`], sites: ["backup"] },
    ],
  },
  {
    name: "the same CRL schedule change on both issuing CAs: one grouped entry",
    env: (e) => {
      for (const ca of e.issuingCas) ca.crl.intervalHours = 48;
    },
    expect: [{ class: "revocation-schedule", severity: "medium", direction: "widening" }],
    approval: "security-officer",
    entries: () => [
      {
        class: "revocation-schedule",
        subject: "2 schedules at site lanic",
        subjects: ["CRL schedule of lao-gov-signing-ca-1 (site lanic)", "CRL schedule of lao-gov-tls-ca-1 (site lanic)"],
        sites: ["lanic"],
      },
    ],
  },
  {
    name: "fewer RA replicas",
    env: (e) => {
      e.workloads.ra!.replicas = 1;
    },
    expect: [{ class: "availability", severity: "medium", direction: "widening" }],
    approval: "security-officer",
  },
  {
    name: "PDB removed from the OCSP responder",
    model: (m) => {
      m.components.find((c) => c.id === "lanic/ocsp-responder")!.pdb = false;
    },
    expect: [{ class: "availability", severity: "medium", direction: "widening" }],
    approval: "security-officer",
  },
  {
    name: "more replicas (narrowing)",
    env: (e) => {
      e.workloads.repository!.replicas = 3;
    },
    expect: [{ class: "availability", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "hardening opt-out on a signing workload",
    model: (m) => {
      const c = m.components.find((c) => c.id === `lanic/issuing-ca-${SIGNING_CA}`)!;
      c.hardening!.readOnlyRootFilesystem = false;
      c.hardening!.optOuts.push({ prop: "writableRootFilesystem", reason: "vendor PKCS#11 library writes a cache" });
    },
    expect: [{ class: "workload-hardening", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "audit log sink changed",
    env: (e) => {
      e.auditLog.sink.address = "10.20.30.99";
    },
    expect: [{ class: "audit-log", severity: "high", direction: "change" }],
    approval: "two-person",
  },
  {
    name: "audit retention shortened",
    env: (e) => {
      e.auditLog.retentionDays = 730;
    },
    expect: [{ class: "audit-log", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "audit retention lengthened (narrowing)",
    env: (e) => {
      e.auditLog.retentionDays = 3650;
    },
    expect: [{ class: "audit-log", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "CRL published less often",
    env: (e) => {
      e.issuingCas[0].crl.intervalHours = 48;
    },
    expect: [{ class: "revocation-schedule", severity: "medium", direction: "widening" }],
    approval: "security-officer",
  },
  {
    name: "OCSP responses refreshed more often (narrowing)",
    env: (e) => {
      e.issuingCas[1].ocsp.refreshHours = 12;
    },
    expect: [{ class: "revocation-schedule", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "policy exception added",
    policy: [exceptions(null), exceptions("2026-03-01")],
    expect: [{ class: "policy-exception", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "policy exception extended",
    policy: [exceptions("2026-03-01"), exceptions("2026-06-01")],
    expect: [{ class: "policy-exception", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
  {
    name: "policy exception removed (narrowing)",
    policy: [exceptions("2026-03-01"), exceptions(null)],
    expect: [{ class: "policy-exception", severity: "low", direction: "narrowing" }],
    approval: "standard",
  },
  {
    name: "policy control turned off",
    policy: [exceptions(null, [{ id: "NET-001", enabled: true, severity: "error" }]), exceptions(null, [{ id: "NET-001", enabled: false, severity: "error" }])],
    expect: [{ class: "policy-control", severity: "high", direction: "widening" }],
    approval: "two-person",
  },
];

describe("classification of changes to production", () => {
  let base: TopologyJson;
  beforeAll(() => {
    base = productionModel();
  });

  it.each(CASES)("$name", (c) => {
    const head = c.env || c.model ? productionModel(c.env, c.model) : base;
    const report = buildReport("production", "changed", [{ base: snapshot(base, c.policy?.[0]), head: snapshot(head, c.policy?.[1]) }]);
    const got = report.environments[0].security.map((s) => ({ class: s.class, severity: s.severity, direction: s.direction }));
    for (const e of c.expect) expect(got).toContainEqual(e);
    // Nothing more severe than expected sneaks in.
    const worst = Math.max(...c.expect.map((e) => ({ low: 0, medium: 1, high: 2 })[e.severity]));
    for (const g of got) expect({ low: 0, medium: 1, high: 2 }[g.severity], JSON.stringify(g)).toBeLessThanOrEqual(worst);
    expect(report.requiredApproval.level).toBe(c.approval);
    if (c.entries) {
      const entries = report.environments[0].security.map((s) => ({ class: s.class, subject: s.subject, subjects: s.subjects, sites: s.sites }));
      expect(entries).toEqual(c.entries(head));
      expect(report.summary.high + report.summary.medium + report.summary.low).toBe(entries.length);
    }
    if (c.approval === "two-person") expect(report.requiredApproval).toMatchObject({ roles: ["security-officer", "ca-system-administrator"], approvers: 2 });
  });

  it("covers every change class in the table", async () => {
    const { CHANGE_CLASSES } = await import("../../review/types.js");
    const covered = new Set(CASES.flatMap((c) => c.expect.map((e) => e.class)));
    expect([...CHANGE_CLASSES].filter((k) => !covered.has(k))).toEqual([]);
  });

  it("one grouped entry for one digest change: in the approval reasons, terminal, Markdown and JSON", () => {
    const head = productionModel((e) => {
      e.images.pkiServices = NEW_DIGEST;
    });
    const report = buildReport("production", "changed", [{ base: snapshot(base), head: snapshot(head) }]);
    const ids = signingWithImage(head);
    const old = base.components.find((c) => c.id === ids[0])!.image!;
    const summary = `signing image ${old} → ${NEW_DIGEST}`;
    expect(report.summary).toMatchObject({ high: 1, medium: 0, low: 0 });
    expect(report.requiredApproval).toEqual({
      level: "two-person",
      roles: ["security-officer", "ca-system-administrator"],
      approvers: 2,
      label: "approved:two-person",
      reasons: [`production: [signing-image] 18 signing components at sites lanic, backup: ${summary} (${ids.join(", ")})`],
    });
    const [entry] = report.environments[0].security;
    expect(entry).toMatchObject({ before: old, after: NEW_DIGEST, summary, sites: ["lanic", "backup"] });
    expect(entry.evidence).toHaveLength(18);
    // Terminal: one HIGH line, the subjects listed below it (wrapped, none split).
    const term = renderTerminal(report, { color: false });
    expect(term.match(/HIGH/g)).toHaveLength(1);
    const applies = term
      .split("\n")
      .filter((l) => /^ {9}(applies to: | {2})/.test(l))
      .map((l) => l.trim().replace(/^applies to: /, ""))
      .join(" ");
    expect(applies.split(/,\s*/)).toEqual(ids);
    // Markdown: one table row after the header, naming every subject.
    const md = renderMarkdown(report);
    const rows = md.split("\n").filter((l) => l.startsWith("| 🔴"));
    expect(rows).toEqual([`| 🔴 high | signing-image | **18 signing components at sites lanic, backup**<br>${ids.join(", ")} | ${summary} |`]);
    // Deterministic: the same input gives the same bytes.
    expect(
      stableStringify(
        buildReport("production", "changed", [
          {
            base: snapshot(base),
            head: snapshot(
              productionModel((e) => {
                e.images.pkiServices = NEW_DIGEST;
              }),
            ),
          },
        ]),
      ),
    ).toBe(stableStringify(report));
  });

  it("identical inputs give an empty diff", () => {
    const report = buildReport("a", "b", [{ base: snapshot(base), head: snapshot(productionModel()) }]);
    expect(report.environments[0]).toMatchObject({ status: "unchanged", security: [], other: [], stacks: [] });
    expect(report.summary).toEqual({ high: 0, medium: 0, low: 0, narrowing: 0, other: 0, stackResources: 0 });
    expect(report.requiredApproval.level).toBe("standard");
    expect(report.notes).toEqual([]);
  });

  it("puts non-security changes under their component with before → after", () => {
    const head = productionModel(undefined, (m) => {
      m.components.find((c) => c.id === "lanic/repository")!.path = "production/production-lanic/repo-v2";
    });
    const report = buildReport("a", "b", [{ base: snapshot(base), head: snapshot(head) }]);
    const e = report.environments[0];
    expect(e.security).toEqual([]);
    expect(e.other).toContainEqual(
      expect.objectContaining({ group: "lanic/repository", kind: "changed", fields: [{ path: "path", before: "production/production-lanic/repository/repository", after: "production/production-lanic/repo-v2" }] }),
    );
  });
});

describe("comparing JSON values (jsonEqual, leafDiff)", () => {
  it("is JSON equality: key order and undefined-valued keys do not count, types and array order do", () => {
    expect(jsonEqual({ a: 1, b: { c: [1, "x", null] } }, { b: { c: [1, "x", null] }, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, u: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual([undefined], [null])).toBe(true); // both "[null]" as JSON
    expect(jsonEqual({ a: 1 }, { a: "1" })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1, c: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual({ a: null }, { a: {} })).toBe(false);
    expect(jsonEqual({ a: [] }, { a: {} })).toBe(false);
  });

  it("leafDiff finds the changed leaves of deep trees, and none between the same tree with its keys reordered", () => {
    const tree = (v: number) => ({ spec: { template: { containers: [{ name: "ocsp", resources: { limits: { cpu: String(v), memory: "1Gi" } } }] } }, meta: { labels: { a: "1" } } });
    const reordered = { meta: { labels: { a: "1" } }, spec: { template: { containers: [{ resources: { limits: { memory: "1Gi", cpu: "2" } }, name: "ocsp" }] } } };
    expect(leafDiff(tree(2), reordered)).toEqual([]);
    expect(leafDiff(tree(2), tree(4))).toEqual([{ path: "spec.template.containers[0].resources.limits.cpu", before: "2", after: "4" }]);
  });
});
