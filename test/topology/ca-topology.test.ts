import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { tmpdir } from "node:os";
import { Testing } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IssuingCaServiceConfig } from "@lanic-ca/pki-services/config/schema";
import { ENVIRONMENT_NAMES, loadEnvironment } from "../../environments/index.js";
import { buildApp, synthesize } from "../../stacks/synth.js";
import { SYNTH_EXTENSIONS } from "../../cli/extensions.js";
import { fixture, resources, synthStack, tempDir, topology } from "./helpers.js";
import { parseEnvironment } from "../../environments/load.js";
import { generateEnvironment } from "../../bench/generate.js";

describe.each(ENVIRONMENT_NAMES)("CaTopology(%s)", (name) => {
  const t = topology(loadEnvironment(name));
  const stacks = t.stacks.map((s) => ({ id: s.node.id, ...synthStack(s) }));

  it("matches the snapshot of each stack", () => {
    // The local state path depends on where the test's app and this checkout are (its own test
    // below); the snapshot keeps that the backend is local.
    for (const s of stacks) {
      const tf = structuredClone(s.tf) as { terraform?: { backend?: { local?: { path?: string } } } };
      if (tf.terraform?.backend?.local?.path) tf.terraform.backend.local.path = "<relative to the stack folder>";
      expect(tf).toMatchSnapshot(s.id);
    }
  });

  it("gives every workload NetworkPolicies on its pods and the hardened defaults", () => {
    const model = t.model.toJSON();
    const workloads = model.components.filter((c) => c.runsAs === "Deployment" || c.runsAs === "CronJob");
    expect(workloads.length).toBeGreaterThan(5);
    for (const s of stacks) {
      const policies = resources(s.tf, "kubernetes_network_policy_v1").map(([, r]) => r);
      const pods = [
        ...resources(s.tf, "kubernetes_deployment_v1").map(([, r]) => ({ meta: r.metadata, pod: r.spec.template.spec, labels: r.spec.template.metadata.labels })),
        ...resources(s.tf, "kubernetes_cron_job_v1").map(([, r]) => ({ meta: r.metadata, pod: r.spec.job_template.spec.template.spec, labels: r.spec.job_template.spec.template.metadata.labels })),
      ];
      expect(pods.length).toBeGreaterThan(0);
      for (const { meta, pod, labels } of pods) {
        const selecting = policies.filter(
          (p) => p.metadata.namespace === meta.namespace && (Object.keys(p.spec.pod_selector ?? {}).length === 0 || Object.entries(p.spec.pod_selector.match_labels ?? {}).every(([k, v]) => labels[k] === v)),
        );
        expect(
          selecting.some((p) => p.metadata.name === "default-deny"),
          `${meta.namespace}/${meta.name} default-deny`,
        ).toBe(true);
        expect(
          selecting.some((p) => p.spec.policy_types.includes("Egress") && p.metadata.name !== "default-deny"),
          `${meta.name} has an egress allow`,
        ).toBe(true);
        expect(pod.automount_service_account_token, meta.name).toBe(false);
        for (const c of pod.container) {
          expect(c.security_context, `${meta.name}`).toMatchObject({ allow_privilege_escalation: false, read_only_root_filesystem: true, run_as_non_root: true, capabilities: { drop: ["ALL"] } });
          expect(c.resources.limits.memory, meta.name).toBeTruthy();
        }
      }
      // Workloads that serve have an ingress allow too.
      for (const [, svc] of resources(s.tf, "kubernetes_service_v1").filter(([, r]) => r.spec.selector)) {
        const ns = svc.metadata.namespace;
        expect(
          policies.some((p) => p.metadata.namespace === ns && p.spec.policy_types.includes("Ingress") && p.metadata.name !== "default-deny"),
          `${ns}/${svc.metadata.name} ingress`,
        ).toBe(true);
      }
    }
  });

  it("writes a CA ConfigMap that the signing services accept", () => {
    const maps = stacks.flatMap((s) => resources(s.tf, "kubernetes_config_map_v1").map(([, r]) => r)).filter((m) => m.data["ca-config.json"]);
    expect(maps.length).toBeGreaterThan(0);
    for (const m of maps) {
      const config = IssuingCaServiceConfig.parse(JSON.parse(m.data["ca-config.json"]));
      expect(config.environment).toBe(name);
      expect(Object.keys(config.profiles).length).toBeGreaterThan(0);
    }
  });

  it("creates no Secret and writes no credential", () => {
    for (const s of stacks) {
      expect(Testing.toHaveResource(s.json, "kubernetes_secret_v1")).toBe(false);
      expect(Testing.toHaveResource(s.json, "kubernetes_secret")).toBe(false);
    }
  });
});

const tmpdirOut = join(tmpdir(), `lanic-ca-state-test-${process.pid}`);
afterAll(() => {
  for (const d of [tmpdirOut, `${tmpdirOut}-relative`]) rmSync(d, { recursive: true, force: true });
});

describe("topology shape", () => {
  it("production: backup site holds standby signing services, a replica database, and active public services", () => {
    const m = topology(loadEnvironment("production")).model.toJSON();
    const backup = m.components.filter((c) => c.site === "backup");
    for (const c of backup.filter((c) => c.signing)) expect(c, c.id).toMatchObject({ standby: true, replicas: 0 });
    expect(backup.find((c) => c.kind === "database")).toMatchObject({ standby: true, runsAs: "CloudNativePG Cluster" });
    expect(backup.find((c) => c.kind === "repository")).toMatchObject({ standby: false, replicas: 2 });
    expect(backup.find((c) => c.kind === "ocsp-responder")).toMatchObject({ standby: false, replicas: 2 });
    expect(m.keys.filter((k) => k.purpose === "root")).toEqual([
      { label: "lao-gov-root-ca-2026", purpose: "root", ca: "lao-gov-root-ca", algorithm: "ECDSA_P384", location: { type: "offline-enclave", hsm: "offline-root" } },
    ]);
    // The offline root has no network at all.
    expect(m.flows.filter((f) => JSON.stringify(f).includes("lao-gov-root-ca"))).toEqual([]);
  });

  it("production: every database backs up to its own site's object store, and the backup site's replicas can restore from the primary's", () => {
    // GIVEN production (object stores at lanic and backup) WHEN built
    const t = topology(loadEnvironment("production"));
    const m = t.model.toJSON();
    const dbs = m.components.filter((c) => c.kind === "database");
    // THEN each of the six clusters (CA, RA and TSA stores at both sites) writes encrypted base backups and WAL to its site's store, kept the archive period
    expect(dbs.map((c) => [c.id, c.backup?.store, c.backup?.serverName, c.backup?.retentionDays, c.backup?.encryption, c.backup?.walArchive])).toEqual([
      ["backup/lanic-ca-db", "backup-object-store", "lanic-ca-db-backup", 2557, "AES256", true],
      ["backup/lanic-ca-ra-db", "backup-object-store", "lanic-ca-ra-db-backup", 2557, "AES256", true],
      ["backup/lanic-ca-tsa-db", "backup-object-store", "lanic-ca-tsa-db-backup", 2557, "AES256", true],
      ["lanic/lanic-ca-db", "lanic-object-store", "lanic-ca-db-lanic", 2557, "AES256", true],
      ["lanic/lanic-ca-ra-db", "lanic-object-store", "lanic-ca-ra-db-lanic", 2557, "AES256", true],
      ["lanic/lanic-ca-tsa-db", "lanic-object-store", "lanic-ca-tsa-db-lanic", 2557, "AES256", true],
    ]);
    expect(dbs.find((c) => c.id === "backup/lanic-ca-db")!.restoreFrom).toEqual([{ store: "lanic-object-store", site: "lanic", serverName: "lanic-ca-db-lanic" }]);
    // AND the stores are external peers: flows and firewall rows (the restore crosses sites)
    expect(m.firewall.filter((r) => r.destination.includes("object-store")).map((r) => `${r.site} ${r.source} -> ${r.destination}:${r.port}`)).toEqual([
      "backup 10.140.0.0/16 (backup/lanic-ca-db) -> 10.20.60.10/32 (lanic-object-store):443",
      "backup 10.140.0.0/16 (backup/lanic-ca-db) -> 10.40.60.10/32 (backup-object-store):443",
      "backup 10.140.0.0/16 (backup/lanic-ca-ra-db) -> 10.20.60.10/32 (lanic-object-store):443",
      "backup 10.140.0.0/16 (backup/lanic-ca-ra-db) -> 10.40.60.10/32 (backup-object-store):443",
      "backup 10.140.0.0/16 (backup/lanic-ca-tsa-db) -> 10.20.60.10/32 (lanic-object-store):443",
      "backup 10.140.0.0/16 (backup/lanic-ca-tsa-db) -> 10.40.60.10/32 (backup-object-store):443",
      "lanic 10.100.0.0/16 (lanic/lanic-ca-db) -> 10.20.60.10/32 (lanic-object-store):443",
      "lanic 10.100.0.0/16 (lanic/lanic-ca-ra-db) -> 10.20.60.10/32 (lanic-object-store):443",
      "lanic 10.100.0.0/16 (lanic/lanic-ca-tsa-db) -> 10.20.60.10/32 (lanic-object-store):443",
    ]);
    // AND the Cluster names its credentials by Secret only; a ScheduledBackup takes the base backups
    const manifests = resources(synthStack(t.stacks[0]).tf, "kubernetes_manifest").map(([, r]) => r.manifest);
    const cluster = manifests.find((x) => x.kind === "Cluster" && x.metadata.name === "lanic-ca-db")!;
    expect(cluster.spec.backup.retentionPolicy).toBe("2557d");
    expect(cluster.spec.backup.barmanObjectStore.s3Credentials).toEqual({ accessKeyId: { name: "db-backup-s3-lanic", key: "ACCESS_KEY_ID" }, secretAccessKey: { name: "db-backup-s3-lanic", key: "ACCESS_SECRET_KEY" } });
    expect(manifests.filter((x) => x.kind === "ScheduledBackup").map((x) => [x.metadata.name, x.spec.cluster.name, x.spec.schedule])).toEqual([
      ["lanic-ca-db-base-backup", "lanic-ca-db", "0 0 2 * * *"],
      ["lanic-ca-ra-db-base-backup", "lanic-ca-ra-db", "0 0 2 * * *"],
      ["lanic-ca-tsa-db-base-backup", "lanic-ca-tsa-db", "0 0 2 * * *"],
    ]);
  });

  it("several backup sites: the primary accepts each one's streaming replication, and every replica's stream has a matching rule", () => {
    // GIVEN production's shape with three backup sites
    const env = parseEnvironment(generateEnvironment({ sites: 4, issuingCas: 1, name: "production" }), "generated");
    // WHEN the topology is built
    const flows = topology(env)
      .model.toJSON()
      .flows.filter((f) => f.port === 5432 && (f.from.type === "external" || f.to.type === "external"));
    // THEN each replica's outgoing stream to the primary is matched by an ingress rule at the
    // primary's same database from that backup site's pod range
    const outgoing = flows.filter((f) => f.site !== "lanic" && f.to.type === "external" && f.to.kind === "replication");
    expect(outgoing).toHaveLength(9); // CA database, RA store and TSA store, at each of three backup sites
    for (const f of outgoing) {
      const db = (f.from as { id: string }).id.split("/")[1];
      const podCidr = env.sites.find((s) => s.name === f.site)!.kubernetes.podCidr;
      const accepted = flows.filter((g) => g.site === "lanic" && g.to.type === "component" && g.to.id === `lanic/${db}` && g.from.type === "external" && g.from.kind === "replication" && g.from.cidrs.includes(podCidr));
      expect(
        accepted.map((g) => (g.from as { name: string }).name),
        `${f.site} ${db}`,
      ).toEqual([`${f.site}-${db}`]);
    }
  });

  it.each([tmpdirOut, relative(process.cwd(), `${tmpdirOut}-relative`)])("keeps local state where synth ran, by a path relative to the stack folder (outdir %s)", (outdir) => {
    const { app, topologies } = buildApp([loadEnvironment("production")], outdir);
    for (const s of topologies[0].stacks) {
      const tf = JSON.parse(JSON.stringify(s.toTerraform())) as { terraform: { backend: { local: { path: string } } } };
      const p = tf.terraform.backend.local.path;
      expect(isAbsolute(p)).toBe(false);
      expect(resolve(app.outdir, "stacks", s.node.id, p)).toBe(resolve(`terraform.${s.node.id}.tfstate`));
    }
  });

  it("pilot: no offline root, no ceremony inputs", () => {
    const t = topology(loadEnvironment("pilot"));
    expect(t.offlineRoot).toBeUndefined();
    expect(t.model.toJSON().keys.some((k) => k.purpose === "root")).toBe(false);
  });

  it("the RA is the only caller of the issuing CA", () => {
    const m = topology(loadEnvironment("production")).model.toJSON();
    const kindOf = (id: string) => m.components.find((c) => c.id === id)?.kind;
    const into = m.flows.filter((f) => f.to.type === "component" && kindOf(f.to.id) === "issuing-ca");
    expect(new Set(into.map((f) => (f.from as { id: string }).id))).toEqual(new Set(["lanic/ra", "backup/ra"]));
    expect(into.every((f) => f.mtls && f.port === 8443)).toBe(true);
  });

  it("trusted roles: nobody may exec into a signing zone or read a Secret", () => {
    const m = topology(loadEnvironment("production")).model.toJSON();
    for (const r of m.roles)
      for (const b of r.bindings)
        for (const rule of b.rules) {
          if (rule.resources.includes("secrets")) expect(rule.verbs, `${r.role} ${b.zone}`).not.toContain("get");
          if (["issuing", "hsm", "database", "ra"].includes(b.zone)) expect(rule.resources, `${r.role} ${b.zone}`).not.toContain("pods/exec");
        }
  });

  it("dev: SoftHSM token in the pods instead of network HSM members", () => {
    const m = topology(loadEnvironment("dev")).model.toJSON();
    expect(m.hsms.find((h) => h.name === "online")).toMatchObject({ type: "softhsm", members: [] });
    expect(m.flows.some((f) => f.to.type === "external" && f.to.kind === "hsm")).toBe(false);
  });
});

describe("synth output", () => {
  let first: string;
  let second: string;
  beforeAll(async () => {
    first = tempDir();
    second = tempDir();
    const envs = ENVIRONMENT_NAMES.map(loadEnvironment);
    // With every extension (policy gate and reports, diagrams, ceremony files): all of cdktf.out.
    await synthesize(envs, { outdir: first, extensions: SYNTH_EXTENSIONS });
    await synthesize(envs, { outdir: second, extensions: SYNTH_EXTENSIONS });
  });

  const files = (dir: string): string[] =>
    readdirSync(dir)
      .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)).map((x) => join(f, x)) : [f]))
      .sort();

  it("is byte-identical across two synths of the same input", () => {
    const a = files(first);
    expect(a).toEqual(files(second));
    expect(a).toContain("stacks/production-backup/cdk.tf.json");
    expect(a).toContain("topology/production.json");
    expect(a).toContain("firewall/production.csv");
    expect(a).toContain("ceremonies/production/ceremony-inputs.json");
    expect(a).toContain("policy/production.sarif");
    expect(a).toContain("diagrams/production.svg");
    expect(a.filter((f) => f.startsWith("ceremonies/production/") && f.endsWith(".yaml")).length).toBeGreaterThan(3);
    for (const f of a) expect(readFileSync(join(second, f)), f).toEqual(readFileSync(join(first, f)));
  });

  it("holds no secret value in any file", () => {
    // A PIN, a password or a private key would appear as one of these; references by Secret name are fine.
    const forbidden = [
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
      /"(pin|password|passwd|secret_key|private_key|token)"\s*:\s*"[^"]+"/i,
      /postgres(ql)?:\/\/[^:"\s]+:[^@"\s]+@/i,
      /"data"\s*:\s*\{[^}]*"(pin|password|tls\.key)"/i,
    ];
    for (const f of files(first)) {
      const text = readFileSync(join(first, f), "utf8");
      for (const re of forbidden) expect(re.test(text), `${f} matches ${re}`).toBe(false);
    }
  });

  it("the no-secret scan catches a PIN written into a ConfigMap", () => {
    // The scan itself must be able to fail: a topology that leaks a PIN is caught.
    const leaky = fixture("dev", (e) => (e.images.auditCollector = "registry.lanic.gov.la/mirror/fluent-bit:3.2"));
    const t = topology(leaky);
    const { json } = synthStack(t.stacks[0]);
    const poisoned = json.replace('"name": "softhsm-conf"', '"name": "softhsm-conf", "pin": "1234"');
    expect(/"(pin|password|passwd|secret_key|private_key|token)"\s*:\s*"[^"]+"/i.test(poisoned)).toBe(true);
  });
});
