/**
 * One GIVEN/WHEN/THEN block per component construct, on a topology built from a shipped
 * environment: what each one synthesizes and records.
 */
import { describe, expect, it } from "vitest";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1/index.js";
import { CronJobV1 } from "@cdktf/provider-kubernetes/lib/cron-job-v1/index.js";
import { ClusterRoleV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-v1/index.js";
import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1/index.js";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1/index.js";
import { loadEnvironment } from "../../environments/index.js";
import { cronEvery } from "../../constructs/site-context.js";
import { fixture, resources, synthStack, topology } from "./helpers.js";

const prod = topology(loadEnvironment("production"));
const model = prod.model.toJSON();
const [lanic, backup] = prod.stacks.map((s) => synthStack(s).tf);
const byName = (tf: typeof lanic, type: string, name: string) =>
  resources(tf, type)
    .map(([, r]) => r)
    .find((r) => r.metadata.name === name);
const flowsInto = (id: string) => model.flows.filter((f) => f.to.type === "component" && f.to.id === id);
const flowsFrom = (id: string) => model.flows.filter((f) => f.from.type === "component" && f.from.id === id);

describe("IssuingCa", () => {
  it("GIVEN an issuing CA THEN a service that signs in the HSM, reads the CA ConfigMap and is called only by the RA over mTLS", () => {
    const d = byName(lanic, DeploymentV1.tfResourceType, "issuing-ca-lao-gov-tls-ca-1");
    expect(d.spec.template.spec.container[0].args).toEqual([
      "issuing-ca",
      "--config=/etc/lanic-ca/ca-config.json",
      "--listen=0.0.0.0:8443",
      "--tls-key=/etc/lanic-ca/tls/tls.key",
      "--tls-cert=/etc/lanic-ca/tls/tls.crt",
      "--client-ca=/etc/lanic-ca/tls/ca.crt",
    ]);
    expect(model.grants.filter((g) => g.grantee === "lanic/issuing-ca-lao-gov-tls-ca-1").map((g) => `${g.kind} ${g.resource} ${g.key ?? ""}`.trim())).toEqual([
      "database-read-write database/lanic-ca-db",
      "hsm-sign partition/tls-issuing lao-gov-tls-ca-1-2026",
    ]);
    expect(flowsInto("lanic/issuing-ca-lao-gov-tls-ca-1").map((f) => [(f.from as { id: string }).id, f.port, f.mtls])).toEqual([["lanic/ra", 8443, true]]);
    const cm = byName(lanic, ConfigMapV1.tfResourceType, "ca-config-lao-gov-tls-ca-1");
    const config = JSON.parse(cm.data["ca-config.json"]);
    expect(config.urls).toEqual({ caIssuers: "http://repository.ca.gov.la/certs/lao-gov-tls-ca-1.der", crl: "http://repository.ca.gov.la/crl/lao-gov-tls-ca-1.crl", ocsp: "http://ocsp.ca.gov.la" });
    expect(Object.keys(config.profiles).sort()).toEqual(["ocsp-signing", "tls-server"]);
    expect(config.hsm).toEqual({ library: "/opt/hsm/lib/libCryptoki2_64.so", tokenLabel: "lanic-ca-tls-issuing", keyLabel: "lao-gov-tls-ca-1-2026", pinFile: "/etc/lanic-ca/hsm-pin/tls-issuing/pin" });
  });
});

describe("CrlPublisher", () => {
  it("GIVEN a CRL interval THEN a CronJob that never overlaps, signs with the CA key, publishes to the repository, and a schedule fact", () => {
    const cj = byName(lanic, CronJobV1.tfResourceType, "crl-publisher-lao-gov-signing-ca-1");
    expect(cj.spec).toMatchObject({ schedule: "0 0 * * *", concurrency_policy: "Forbid", suspend: false });
    expect(model.schedules.find((s) => s.kind === "crl" && s.ca === "lao-gov-signing-ca-1")).toMatchObject({ intervalHours: 24, validityHours: 168 });
    expect(flowsFrom("lanic/crl-publisher-lao-gov-signing-ca-1").map((f) => (f.to.type === "component" ? f.to.id : f.to.name))).toEqual(
      expect.arrayContaining(["hsm", "lanic/lanic-ca-db", "lanic/repository", "lanic/audit-collector"]),
    );
  });
  it("a watcher Deployment publishes within a minute of a revocation; both push to the repository with their own client identity", () => {
    const w = byName(lanic, DeploymentV1.tfResourceType, "crl-publisher-lao-gov-signing-ca-1-watch");
    expect(w.spec.template.spec.container[0].args).toEqual(["crl-publisher", "--config=/etc/lanic-ca/ca-config.json", "--out=/var/lib/pki-services/crl"]);
    expect(w.spec.template.spec.volume).toContainEqual({ name: "client-tls", secret: [{ secret_name: "crl-publisher-lao-gov-signing-ca-1-watch-client-tls", default_mode: "0440" }] });
    expect(flowsFrom("lanic/crl-publisher-lao-gov-signing-ca-1-watch").some((f) => f.to.type === "component" && f.to.id === "lanic/repository" && f.port === 8443 && f.mtls)).toBe(true);
    expect(byName(backup, DeploymentV1.tfResourceType, "crl-publisher-lao-gov-signing-ca-1-watch").spec.replicas).toBe("0");
  });
  it("at the backup site the CronJob is suspended (warm standby)", () => {
    expect(byName(backup, CronJobV1.tfResourceType, "crl-publisher-lao-gov-signing-ca-1").spec.suspend).toBe(true);
  });
  it.each([
    [0.5, "*/30 * * * *"],
    [6, "0 */6 * * *"],
    [24, "0 0 * * *"],
    [72, "0 0 */3 * *"],
  ])("cronEvery(%s) = %s", (h, cron) => {
    expect(cronEvery(h)).toBe(cron);
  });
});

describe("ValidationAuthority", () => {
  it("GIVEN OCSP on THEN a public responder with no key, and a signer per CA in the issuing zone that pushes to it", () => {
    const responder = model.components.find((c) => c.id === "lanic/ocsp-responder")!;
    expect(responder).toMatchObject({ zone: "public", signing: false });
    expect(model.grants.some((g) => g.grantee === "lanic/ocsp-responder")).toBe(false);
    expect(flowsFrom("lanic/ocsp-responder").filter((f) => f.to.type === "component" && f.to.id !== "lanic/audit-collector")).toEqual([]);
    expect(
      flowsInto("lanic/ocsp-responder")
        .map((f) => (f.from.type === "component" ? f.from.id : f.from.name))
        .sort(),
    ).toEqual(["internet", "lanic/ocsp-signer-lao-gov-signing-ca-1", "lanic/ocsp-signer-lao-gov-tls-ca-1"]);
    expect(model.grants.find((g) => g.grantee === "lanic/ocsp-signer-lao-gov-tls-ca-1" && g.kind === "hsm-sign")).toMatchObject({ resource: "partition/ocsp", key: "lao-gov-tls-ca-1-ocsp" });
  });
  it("a headless Service names every responder pod for the signers' push; the CA config says where and with which key", () => {
    const svc = byName(lanic, "kubernetes_service_v1", "ocsp-responder-publish");
    expect(svc.spec).toMatchObject({ cluster_ip: "None", port: [{ name: "publish", port: 8443 }] });
    const config = JSON.parse(byName(lanic, ConfigMapV1.tfResourceType, "ca-config-lao-gov-signing-ca-1").data["ca-config.json"]);
    expect(config.publish.ocspResponderUrl).toBe("https://ocsp-responder-publish.lanic-ca-public.svc:8443");
    expect(config.ocsp.responder).toMatchObject({ keyAlgorithm: "ECDSA_P256", hsm: { tokenLabel: "lanic-ca-ocsp", keyLabel: "lao-gov-signing-ca-1-ocsp", pinFile: "/etc/lanic-ca/hsm-pin/ocsp/pin" } });
  });
  it("GIVEN OCSP off THEN no signer and no schedule for that CA", () => {
    const env = fixture("production", (e) => (e.issuingCas[1].ocsp.enabled = false));
    const m = topology(env).model.toJSON();
    expect(m.components.some((c) => c.id === "lanic/ocsp-signer-lao-gov-tls-ca-1")).toBe(false);
    expect(m.schedules.some((s) => s.kind === "ocsp" && s.ca === "lao-gov-tls-ca-1")).toBe(false);
  });
});

describe("RegistrationAuthority", () => {
  it("GIVEN the government networks THEN only they reach the front end; the RA keeps its own store and reaches no CA database", () => {
    expect(flowsInto("lanic/ra-frontend").map((f) => (f.from.type === "external" ? f.from.cidrs : f.from.id))).toEqual([["10.60.0.0/14"]]);
    expect(
      flowsFrom("lanic/ra-frontend")
        .filter((f) => f.to.type === "component")
        .map((f) => (f.to as { id: string }).id)
        .sort(),
    ).toEqual(["lanic/audit-collector", "lanic/ra"]);
    const raTargets = flowsFrom("lanic/ra")
      .filter((f) => f.to.type === "component")
      .map((f) => (f.to as { id: string }).id);
    expect(raTargets).toContain("lanic/lanic-ca-ra-db");
    expect(raTargets).not.toContain("lanic/lanic-ca-db");
    expect(model.components.find((c) => c.id === "lanic/lanic-ca-ra-db")).toMatchObject({ zone: "ra", kind: "database" });
  });
});

describe("Repository", () => {
  it("GIVEN the repository THEN internet on 8080 only, publishers on 8443 over mTLS, nothing outwards but logs and DNS", () => {
    const into = flowsInto("lanic/repository");
    expect(into.filter((f) => f.from.type === "external").map((f) => [f.port, (f.from as { cidrs: string[] }).cidrs])).toEqual([[8080, ["0.0.0.0/0"]]]);
    expect(into.filter((f) => f.from.type === "component").every((f) => f.port === 8443 && f.mtls)).toBe(true);
    expect(
      flowsFrom("lanic/repository")
        .map((f) => (f.to.type === "component" ? f.to.id : f.to.kind))
        .sort(),
    ).toEqual(["cluster-dns", "cluster-dns", "lanic/audit-collector"]);
  });
});

describe("AuditLog", () => {
  it("GIVEN a sink THEN a collector forwarding over TLS, every CA, RA and VA workload shipping to it, and a firewall row", () => {
    const shipping = new Set(model.flows.filter((f) => f.to.type === "component" && f.to.id === "lanic/audit-collector").map((f) => (f.from as { id: string }).id));
    for (const c of model.components.filter((c) => c.site === "lanic" && c.role)) expect(shipping.has(c.id), c.id).toBe(true);
    expect(model.firewall).toContainEqual(expect.objectContaining({ site: "lanic", direction: "outbound", destination: "10.20.30.40/32 (audit-sink)", port: 6514 }));
    expect(model.schedules.find((s) => s.kind === "audit-integrity")).toMatchObject({ intervalHours: 24 });
    expect(model.grants.find((g) => g.grantee === "lanic/audit-integrity-check")).toMatchObject({ kind: "database-read" });
  });
});

describe("OfflineRootEnclave", () => {
  it("GIVEN an offline root THEN no resource anywhere, the key in the offline HSM, and the ceremony inputs", () => {
    const json = JSON.stringify([lanic, backup]);
    expect(json).not.toContain("lao-gov-root-ca");
    expect(model.hsms.find((h) => h.type === "offline")).toMatchObject({
      members: [],
      attachment: "pcie",
      partitions: [{ name: "root", tokenLabel: "lao-gov-root", serialNumber: "1541027", pinSecret: null, keys: ["lao-gov-root-ca-2026"] }],
    });
    expect(prod.offlineRoot!.ceremonyInputs.root).toMatchObject({ keyAlgorithm: "ECDSA_P384", validityDays: 5479, crlUrl: "http://repository.ca.gov.la/crl/lao-gov-root-ca.crl" });
    expect(prod.offlineRoot!.ceremonyInputs.intermediates.map((i) => [i.name, i.pathLen])).toEqual([
      ["lao-gov-signing-ca-1", 0],
      ["lao-gov-tls-ca-1", 0],
    ]);
  });
});

describe("BackupSite", () => {
  it("GIVEN a backup site THEN replica clusters of the three databases (CA, RA, TSA) streaming from the primary's addresses, and firewall rows both ways", () => {
    expect(model.components.filter((c) => c.site === "backup" && c.kind === "database").map((c) => [c.id, c.standby])).toEqual([
      ["backup/lanic-ca-db", true],
      ["backup/lanic-ca-ra-db", true],
      ["backup/lanic-ca-tsa-db", true],
    ]);
    expect(
      model.firewall
        .filter((r) => r.port === 5432)
        .map((r) => `${r.site} ${r.direction} ${r.destination}`)
        .sort(),
    ).toEqual([
      "backup outbound 10.20.50.10/32 (lanic-lanic-ca-db)",
      "backup outbound 10.20.50.11/32 (lanic-lanic-ca-ra-db)",
      "backup outbound 10.20.50.12/32 (lanic-lanic-ca-tsa-db)",
      "lanic inbound 10.100.0.0/16 (lanic/lanic-ca-db)",
      "lanic inbound 10.100.0.0/16 (lanic/lanic-ca-ra-db)",
      "lanic inbound 10.100.0.0/16 (lanic/lanic-ca-tsa-db)",
    ]);
  });
});

describe("TrustedRoles", () => {
  it("GIVEN role groups THEN one ClusterRole per power set and a RoleBinding per zone to the role's groups", () => {
    const cr = byName(lanic, ClusterRoleV1.tfResourceType, "lanic-ca:ia-operator:1");
    expect(cr.rule[0]).toEqual({ api_groups: ["apps"], resources: ["deployments", "deployments/scale"], verbs: ["get", "list", "watch", "patch", "update"] });
    const bindings = resources(lanic, RoleBindingV1.tfResourceType)
      .map(([, r]) => r)
      .filter((r) => r.metadata.name === "lanic-ca-ia-operator");
    expect(bindings.map((b) => [b.metadata.namespace, b.role_ref.name]).sort()).toEqual([
      ["lanic-ca-database", "lanic-ca:ia-operator:2"],
      ["lanic-ca-issuing", "lanic-ca:ia-operator:1"],
      ["lanic-ca-timestamping", "lanic-ca:ia-operator:1"],
    ]);
    expect(bindings[0].subject).toEqual([{ api_group: "rbac.authorization.k8s.io", kind: "Group", name: "lanic-ca-production:ia-operator" }]);
    expect(model.roles.find((r) => r.role === "key-custodian")!.bindings).toEqual([]);
  });
});
