/**
 * Construct tests, GIVEN / WHEN / THEN, with cdktf Testing matchers on the synthesized stack and
 * exact error messages.
 */
import { Testing, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1/index.js";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1/index.js";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1/index.js";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1/index.js";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest/index.js";
import { ExternalPeer } from "../../constructs/connections.js";
import { Database } from "../../constructs/database.js";
import { HardenedWorkload, type HardenedWorkloadProps } from "../../constructs/hardened-workload.js";
import { HsmCluster } from "../../constructs/hsm-cluster.js";
import { TopologyModel } from "../../constructs/model.js";
import { Zone } from "../../constructs/zone.js";
import { fixture, resources, synthStack, testApp } from "./helpers.js";

const RESOURCES = { cpu: "100m", memory: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" };
const DIGEST_IMAGE = `registry.lanic.gov.la/x@sha256:${"a".repeat(64)}`;

function setup(site = "lanic") {
  const app = testApp();
  const stack = new TerraformStack(app, "test");
  const model = new TopologyModel();
  const zone = (z: "public" | "ra" | "issuing" | "database" | "hsm") => new Zone(stack, `zone-${z}-${site}`, { zone: z, site, model });
  return { app, stack, model, zone };
}

function workload(scope: TerraformStack, model: TopologyModel, zone: Zone, extra: Partial<HardenedWorkloadProps> = {}) {
  return new HardenedWorkload(scope, extra.name ?? "w", {
    model,
    zone,
    podCidr: "10.100.0.0/16",
    kind: "ra",
    name: "w",
    image: DIGEST_IMAGE,
    args: ["ra"],
    replicas: 2,
    resources: RESOURCES,
    ports: [{ name: "https", port: 8443 }],
    ...extra,
  });
}

describe("Zone", () => {
  it("GIVEN a zone WHEN synthesized THEN its namespace enforces restricted pod security and starts default-deny", () => {
    const { stack, model, zone } = setup();
    zone("issuing");
    const { json } = synthStack(stack);
    expect(
      Testing.toHaveResourceWithProperties(json, NamespaceV1.tfResourceType, {
        metadata: { name: "lanic-ca-issuing", labels: { "pod-security.kubernetes.io/enforce": "restricted", "lanic-ca.gov.la/zone": "issuing" } },
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, NetworkPolicyV1.tfResourceType, {
        metadata: { name: "default-deny", namespace: "lanic-ca-issuing" },
        spec: { pod_selector: {}, policy_types: ["Ingress", "Egress"] },
      }),
    ).toBe(true);
    expect(model.zones).toEqual([expect.objectContaining({ id: "lanic/issuing", defaultDeny: true })]);
  });
});

describe("Connections", () => {
  it("GIVEN two workloads WHEN a.allowTo(b) THEN an egress rule in a's policy, an ingress rule in b's, and one flow fact", () => {
    const { stack, model, zone } = setup();
    const a = workload(stack, model, zone("ra"), { name: "ra" });
    const b = workload(stack, model, zone("issuing"), { name: "issuing-ca", kind: "issuing-ca" });
    a.connections.allowTo(b, 8443, { purpose: "issue", mtls: true });
    const { tf } = synthStack(stack);
    const policies = resources(tf, NetworkPolicyV1.tfResourceType).map(([, r]) => r);
    const egress = policies.find((p) => p.metadata.name === "ra-allow");
    const ingress = policies.find((p) => p.metadata.name === "issuing-ca-allow");
    expect(egress.metadata.namespace).toBe("lanic-ca-ra");
    const toIssuing = egress.spec.egress.find((r: any) => r.ports[0].port === "8443");
    expect(toIssuing.to[0].namespace_selector.match_labels).toEqual({ "kubernetes.io/metadata.name": "lanic-ca-issuing" });
    expect(toIssuing.to[0].pod_selector.match_labels["app.kubernetes.io/name"]).toBe("issuing-ca");
    expect(egress.spec.ingress).toEqual([]);
    expect(egress.spec.policy_types).toEqual(["Egress"]);
    expect(ingress.metadata.namespace).toBe("lanic-ca-issuing");
    expect(ingress.spec.policy_types).toEqual(["Ingress", "Egress"]);
    expect(ingress.spec.ingress).toHaveLength(1);
    expect(ingress.spec.ingress[0].from[0].pod_selector.match_labels["app.kubernetes.io/name"]).toBe("ra");
    expect(ingress.spec.ingress[0].ports).toEqual([{ port: "8443", protocol: "TCP" }]);
    expect(model.flows.filter((f) => f.to.type === "component")).toEqual([
      expect.objectContaining({ from: { type: "component", id: "lanic/ra" }, to: { type: "component", id: "lanic/issuing-ca" }, port: 8443, mtls: true }),
    ]);
  });

  it("GIVEN an external peer WHEN allowTo THEN an ipBlock egress rule and an outbound firewall row", () => {
    const { stack, model, zone } = setup();
    const a = workload(stack, model, zone("issuing"), { name: "issuing-ca" });
    a.connections.allowTo(new ExternalPeer("hsm", "hsm", ["10.20.10.11/32"]), 1792, { purpose: "PKCS#11", mtls: true });
    const { tf } = synthStack(stack);
    const p = resources(tf, NetworkPolicyV1.tfResourceType)
      .map(([, r]) => r)
      .find((r) => r.metadata.name === "issuing-ca-allow");
    expect(p.spec.egress.find((r: any) => r.ports[0].port === "1792").to).toEqual([{ ip_block: { cidr: "10.20.10.11/32" } }]);
    expect(model.firewall).toEqual([{ site: "lanic", direction: "outbound", source: "10.100.0.0/16 (lanic/issuing-ca)", destination: "10.20.10.11/32 (hsm)", port: 1792, protocol: "TCP", purpose: "PKCS#11" }]);
  });

  it("refuses a flow between sites and a flow declared twice", () => {
    const { stack, model } = setup();
    const z1 = new Zone(stack, "z1", { zone: "ra", site: "lanic", model });
    const z2 = new Zone(stack, "z2", { zone: "issuing", site: "backup", model });
    const a = workload(stack, model, z1, { name: "ra" });
    const b = workload(stack, model, z2, { name: "issuing-ca" });
    expect(() => a.connections.allowTo(b, 8443, { purpose: "x" })).toThrow("test/ra: flow to backup/issuing-ca crosses sites (lanic → backup); declare it to an ExternalPeer (the other site's address)");
    const peer = new ExternalPeer("sink", "audit-sink", ["10.1.1.1/32"]);
    a.connections.allowTo(peer, 6514, { purpose: "x" });
    expect(() => a.connections.allowTo(peer, 6514, { purpose: "x" })).toThrow("test/ra: flow lanic/ra → sink:6514 is declared twice");
  });
});

describe("HardenedWorkload", () => {
  it("GIVEN defaults WHEN synthesized THEN restricted pod security plus read-only root, no token, limits, spread and a PDB", () => {
    const { stack, model, zone } = setup();
    workload(stack, model, zone("ra"));
    const { json, tf } = synthStack(stack);
    const [, d] = resources(tf, DeploymentV1.tfResourceType)[0];
    const pod = d.spec.template.spec;
    expect(pod.automount_service_account_token).toBe(false);
    expect(pod.security_context).toMatchObject({ run_as_non_root: true, seccomp_profile: { type: "RuntimeDefault" } });
    expect(pod.container[0].security_context).toEqual({
      allow_privilege_escalation: false,
      capabilities: { drop: ["ALL"] },
      privileged: false,
      read_only_root_filesystem: true,
      run_as_non_root: true,
      seccomp_profile: { type: "RuntimeDefault" },
    });
    expect(pod.container[0].resources).toEqual({ limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } });
    expect(pod.topology_spread_constraint[0].topology_key).toBe("kubernetes.io/hostname");
    expect(Testing.toHaveResourceWithProperties(json, PodDisruptionBudgetV1.tfResourceType, { spec: { min_available: "1" } })).toBe(true);
    expect(model.components[0].hardening).toMatchObject({ imageByDigest: true, readOnlyRootFilesystem: true, optOuts: [] });
  });

  it("GIVEN one replica WHEN synthesized THEN no PDB or spread, and the model says so", () => {
    const { stack, model, zone } = setup();
    workload(stack, model, zone("ra"), { replicas: 1, image: "registry.lanic.gov.la/x:dev" });
    const { json } = synthStack(stack);
    expect(Testing.toHaveResource(json, PodDisruptionBudgetV1.tfResourceType)).toBe(false);
    expect(model.components[0]).toMatchObject({ pdb: false, spread: false, hardening: { imageByDigest: false } });
  });

  it("an opt-out is explicit, needs a reason, and is recorded", () => {
    const { stack, model, zone } = setup();
    const z = zone("ra");
    expect(() => workload(stack, model, z, { name: "a", writableRootFilesystem: { reason: "because" } })).toThrow("test/a: opt-out 'writableRootFilesystem' needs a reason of at least 20 characters (got 'because')");
    workload(stack, model, z, { name: "b", writableRootFilesystem: { reason: "vendor HSM client writes /opt/hsm/log" } });
    expect(model.component("lanic/b")?.hardening).toMatchObject({
      readOnlyRootFilesystem: false,
      optOuts: [{ prop: "writableRootFilesystem", reason: "vendor HSM client writes /opt/hsm/log" }],
    });
  });

  it("mounts the same volume twice once, and refuses two different mounts under one name", () => {
    const { stack, model, zone } = setup();
    const w = workload(stack, model, zone("ra"));
    w.addVolume("tls", "/etc/tls", { secret: "a" });
    w.addVolume("tls", "/etc/tls", { secret: "a" });
    expect(() => w.addVolume("tls", "/etc/other", { secret: "b" })).toThrow("test/w: volume 'tls' is mounted twice, differently (/etc/tls and /etc/other)");
    const { tf } = synthStack(stack);
    const [, d] = resources(tf, DeploymentV1.tfResourceType)[0];
    expect(d.spec.template.spec.volume.filter((v: { name: string }) => v.name === "tls")).toHaveLength(1);
  });

  it("refuses negative replicas", () => {
    const { stack, model, zone } = setup();
    expect(() => workload(stack, model, zone("ra"), { replicas: -1 })).toThrow("test/w: 'replicas' (-1) must be a whole number ≥ 0");
  });
});

describe("HsmCluster grants", () => {
  it("GIVEN a network HSM WHEN grantSign THEN PIN as a mounted Secret file, client cert, flow to the site's members, and a grant fact", () => {
    const env = fixture("production");
    const { stack, model, zone } = setup();
    const hsm = new HsmCluster(stack, "hsm", { model, definition: env.hsm });
    const w = workload(stack, model, zone("issuing"), { name: "issuing-ca", kind: "issuing-ca" });
    hsm.partition("issuing").grantSign(w, "lao-gov-signing-ca-1-2026");
    const { tf } = synthStack(stack);
    const [, d] = resources(tf, DeploymentV1.tfResourceType)[0];
    const c = d.spec.template.spec.container[0];
    // the PIN as a mounted Secret file, never an environment variable (/proc/<pid>/environ)
    expect(c.volume_mount).toContainEqual({ name: "hsm-pin-issuing", mount_path: "/etc/lanic-ca/hsm-pin/issuing", read_only: true });
    expect(d.spec.template.spec.volume).toContainEqual({ name: "hsm-pin-issuing", secret: [{ secret_name: "hsm-pin-issuing", default_mode: "0440" }] });
    expect((c.env ?? []).filter((e: { name: string }) => /PIN/.test(e.name))).toEqual([]);
    expect(c.volume_mount).toContainEqual({ name: "hsm-client-cert", mount_path: "/etc/hsm/client", read_only: true });
    expect(model.flows.find((f) => f.to.type === "external" && f.to.kind === "hsm")?.to).toEqual({
      type: "external",
      name: "hsm",
      kind: "hsm",
      cidrs: ["10.20.10.11/32", "10.20.10.12/32"],
    });
    expect(model.grants).toEqual([{ kind: "hsm-sign", resource: "partition/issuing", key: "lao-gov-signing-ca-1-2026", grantee: "lanic/issuing-ca", path: "test/issuing-ca" }]);
  });

  it("refuses a key the partition does not hold, and an unknown partition", () => {
    const env = fixture("production");
    const { stack, model, zone } = setup();
    const hsm = new HsmCluster(stack, "hsm", { model, definition: env.hsm });
    const w = workload(stack, model, zone("issuing"));
    expect(() => hsm.partition("issuing").grantSign(w, "lao-gov-root-ca-2026")).toThrow("test/w: partition 'issuing' holds no key 'lao-gov-root-ca-2026'; it holds: lao-gov-signing-ca-1-2026");
    expect(() => hsm.partition("root")).toThrow("test/hsm: no partition 'root'; defined: issuing, tls-issuing, ocsp");
  });
});

describe("Database", () => {
  it("GIVEN a replica at the backup site THEN a CloudNativePG replica cluster streaming from the primary over TLS", () => {
    const env = fixture("production");
    const { stack, model } = setup("backup");
    const z = new Zone(stack, "db", { zone: "database", site: "backup", model });
    new Database(stack, "database", { model, zone: z, podCidr: "10.140.0.0/16", settings: env.database, mode: { type: "replica", primaryAddress: "10.20.50.10", primarySite: "lanic" } });
    const { tf } = synthStack(stack);
    const [, m] = resources(tf, Manifest.tfResourceType)[0];
    expect(m.manifest.kind).toBe("Cluster");
    expect(m.manifest.spec.replica).toEqual({ enabled: true, source: "lanic-ca-db-primary" });
    expect(m.manifest.spec.externalClusters[0].connectionParameters).toEqual({ host: "10.20.50.10", user: "streaming_replica", sslmode: "verify-full", dbname: "postgres" });
    expect(m.manifest.spec.enableSuperuserAccess).toBe(false);
    expect(model.firewall).toContainEqual(expect.objectContaining({ direction: "outbound", destination: "10.20.50.10/32 (lanic-lanic-ca-db)", port: 5432 }));
  });
});
