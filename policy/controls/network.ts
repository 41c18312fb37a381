/** Network controls (NCSSR 1.1, 1.2): default deny, only declared flows, reachability. */
import { PROTECTED_ZONES, type TopologyJson } from "../../constructs/model.js";
import { FlowGraph, type Node } from "../graph.js";
import type { SynthesizedResources, TfResource } from "../resources.js";
import type { Control, FindingInput } from "../types.js";
import { workloadResource } from "./workloads.js";

const PUBLIC_ZONES = new Set(["public", "government"]);
const isProtected = (n: Node) => (n.component ? PROTECTED_ZONES.has(n.component.zone) : n.external?.kind === "hsm");
const isPublicSource = (n: Node) => (n.component ? PUBLIC_ZONES.has(n.component.zone) : n.external?.kind === "internet" || n.external?.kind === "government-network");

type Policy = { pod_selector?: { match_labels?: Record<string, string> }; policy_types?: string[]; ingress?: Rule[]; egress?: Rule[] };
type Rule = { ports?: { port?: string; protocol?: string }[]; from?: Peer[]; to?: Peer[] };
type Peer = { ip_block?: { cidr?: string } };
const spec = (r: TfResource) => (r.body.spec ?? {}) as Policy;
const isDefaultDeny = (p: Policy) => Object.keys(p.pod_selector?.match_labels ?? {}).length === 0 && !p.ingress?.length && !p.egress?.length && ["Ingress", "Egress"].every((t) => p.policy_types?.includes(t));

export const NETWORK_CONTROLS: Control[] = [
  {
    id: "LCA-NET-01",
    title: "Every namespace denies by default",
    rfc3647: "6.7",
    references: ["NCSSR 1.1.1", "NCSSR 1.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Every zone starts isolated: a NetworkPolicy selecting all pods for ingress and egress with no rule, so only declared flows open it (NCSSR 1.2.2).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      for (const z of m.zones)
        if (!z.defaultDeny) out.push({ key: `zone:${z.id}`, path: z.path, found: `zone ${z.id} is not default-deny`, required: "a default-deny NetworkPolicy in every zone", fix: "create zones with the Zone construct" });
      const denyByStackNs = new Set(
        ctx.resources
          .ofType("kubernetes_network_policy_v1")
          .filter((r) => isDefaultDeny(spec(r)))
          .map((r) => `${r.stack} ${(r.body.metadata as { namespace?: string })?.namespace}`),
      );
      for (const ns of ctx.resources.ofType("kubernetes_namespace_v1")) {
        const name = (ns.body.metadata as { name?: string })?.name;
        if (!denyByStackNs.has(`${ns.stack} ${name}`))
          out.push({
            key: `namespace:${ns.stack}:${name}`,
            path: ns.path,
            found: `namespace '${name}' (stack ${ns.stack}) has no default-deny NetworkPolicy`,
            required: "policyTypes [Ingress, Egress] with an empty pod selector and no rules",
            fix: "create the namespace through the Zone construct",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-NET-02",
    title: "Only declared flows are open",
    rfc3647: "6.7",
    references: ["NCSSR 1.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Every allow rule in the synthesized NetworkPolicies corresponds to a flow declared through the connections API (and so to a reviewed row of the model and firewall matrix); nothing else is open.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const compPath = new Map(m.components.map((c) => [c.id, c.path]));
      const declared = new Set<string>();
      const cidrs = new Map<string, Set<string>>();
      for (const f of m.flows) {
        const add = (owner: string | undefined, dir: string, ext?: string[]) => {
          if (!owner) return;
          const k = `${owner}|${dir}|${f.protocol}|${f.port}`;
          declared.add(k);
          if (ext) cidrs.set(k, new Set([...(cidrs.get(k) ?? []), ...ext]));
        };
        if (f.from.type === "component") add(f.path, "Egress", f.to.type === "external" ? f.to.cidrs : undefined);
        if (f.to.type === "component") add(f.from.type === "component" ? compPath.get(f.to.id) : f.path, "Ingress", f.from.type === "external" ? f.from.cidrs : undefined);
      }
      for (const r of ctx.resources.ofType("kubernetes_network_policy_v1")) {
        const p = spec(r);
        if (isDefaultDeny(p)) continue;
        const owner = r.path.slice(0, r.path.lastIndexOf("/"));
        for (const dir of ["Ingress", "Egress"] as const) {
          const rules = (dir === "Ingress" ? p.ingress : p.egress) ?? [];
          for (const rule of rules) {
            const ports = rule.ports?.length ? rule.ports : [{ port: "*", protocol: "TCP" }];
            for (const port of ports) {
              const k = `${owner}|${dir}|${port.protocol ?? "TCP"}|${port.port}`;
              const peers = (dir === "Ingress" ? rule.from : rule.to) ?? [];
              const blocks = peers.map((x) => x.ip_block?.cidr).filter((c): c is string => !!c);
              const allowed = cidrs.get(k);
              if (!declared.has(k) || blocks.some((b) => !allowed?.has(b)) || peers.length === 0)
                out.push({
                  key: `policy:${r.stack}:${r.name}:${dir}:${port.port}`,
                  path: r.path,
                  found: `NetworkPolicy '${(r.body.metadata as { name?: string })?.name}' allows ${dir.toLowerCase()} ${port.protocol ?? "TCP"}/${port.port}${blocks.length ? ` ${dir === "Ingress" ? "from" : "to"} ${blocks.join(", ")}` : peers.length === 0 ? " from/to anywhere" : ""} with no declared flow`,
                  required: "every allow rule matches a flow declared with connections.allowTo/allowFrom",
                  fix: "declare the flow through the connections API (or remove the policy)",
                });
            }
          }
        }
      }
      return out;
    },
  },
  {
    id: "LCA-NET-03",
    title: "No path from public or government zones into issuing, time-stamping, HSM or database zones except RA → issuing CA over mTLS and RFC 3161 requests to the TSA",
    rfc3647: "6.7",
    references: ["NCSSR 1.1.1", "NCSSR 1.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "Proven by reachability over the flow graph from the internet, the government network and the public and government zones: the only ways into the signing, time-stamping, HSM and database zones are the RA calling the issuing CA over mutually authenticated TLS and RFC 3161 requests to the TSA's HTTP port (the TSA, in a zone of its own, reaches only its HSM partition, its own store, its time sources and the audit log).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const g = new FlowGraph(m);
      const sources = [...g.nodes.values()].filter(isPublicSource);
      const reached = g.reach(sources, isProtected);
      const out: FindingInput[] = [];
      for (const key of reached.keys()) {
        const n = g.nodes.get(key)!;
        if (isProtected(n)) continue;
        for (const e of g.out.get(key) ?? []) {
          if (!isProtected(e.to)) continue;
          // The two doors: the RA into the issuing CA's mTLS API, and RFC 3161 requests into the
          // TSA's HTTP port (a fixed-format request carrying a hash; the TSA signs, nothing else).
          const allowed = (e.from.component?.kind === "ra" && e.to.component?.kind === "issuing-ca" && e.flow.mtls) || (e.to.component?.kind === "tsa" && e.flow.purpose.startsWith("time-stamp requests (RFC 3161"));
          if (allowed) continue;
          out.push({
            key: `edge:${e.from.key}->${e.to.key}:${e.flow.port}`,
            path: e.flow.path,
            found: `${g.pathTo(reached, key)} → ${e.to.label} (${g.zoneOf(e.to)} zone, port ${e.flow.port}${e.flow.mtls ? ", mTLS" : ""}: ${e.flow.purpose})`,
            required: "into issuing/time-stamping/HSM/database zones from anything reachable from public or government networks: only RA → issuing CA over mTLS, and RFC 3161 requests to the TSA",
            fix: "remove the flow, or route it through the issuing CA's mTLS API",
          });
        }
      }
      return out;
    },
  },
  {
    id: "LCA-NET-04",
    title: "HSM reachable only from signing workloads",
    rfc3647: "6.7",
    references: ["NCSSR 1.2.2", "BR 6.2.7"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Only the services that sign with a CA or OCSP key (issuing CA, CRL publisher, OCSP signer) may open a connection to the HSM or hold a signing grant (least privilege, NCSSR 1.2.2).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const comp = new Map(m.components.map((c) => [c.id, c]));
      for (const f of m.flows) {
        const toHsm = f.to.type === "external" ? f.to.kind === "hsm" : comp.get(f.to.id)?.zone === "hsm";
        if (!toHsm) continue;
        const src = f.from.type === "component" ? comp.get(f.from.id) : undefined;
        if (!src?.signing)
          out.push({
            key: `flow:${f.site}:${f.from.type === "component" ? f.from.id : f.from.name}:${f.port}`,
            path: f.path,
            found: `${f.from.type === "component" ? f.from.id : f.from.name} (${src ? `${src.kind}, not signing` : "external"}) can reach the HSM on port ${f.port}`,
            required: "only signing workloads reach the HSM",
            fix: "remove the flow; grant HSM access only through partition.grantSign to a signing workload",
          });
      }
      for (const gr of m.grants.filter((x) => x.kind === "hsm-sign"))
        if (!comp.get(gr.grantee)?.signing)
          out.push({
            key: `grant:${gr.grantee}:${gr.key}`,
            path: gr.path,
            found: `${gr.grantee} holds a signing grant on '${gr.key}' but is not a signing workload`,
            required: "HSM grants only to signing workloads",
            fix: "remove the grant",
          });
      return out;
    },
  },
  {
    id: "LCA-NET-05",
    title: "Connections inside the CA infrastructure are mutually authenticated",
    rfc3647: "6.7",
    references: ["NCSSR 1.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Connections to and within the CA infrastructure are authenticated and encrypted (NCSSR 1.2.2); only the public HTTP of OCSP and CRLs (RFC 6960, RFC 5280) and the RA's web front end are not mutual TLS.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const f of m.flows) {
        const internal = f.from.type === "component" && (f.to.type === "component" || ["hsm", "audit-sink", "replication"].includes(f.to.kind));
        const replicationIn = f.from.type === "external" && f.from.kind === "replication";
        if ((internal || replicationIn) && !f.mtls)
          out.push({
            key: `flow:${f.site}:${f.from.type === "component" ? f.from.id : f.from.name}->${f.to.type === "component" ? f.to.id : f.to.name}:${f.port}`,
            path: f.path,
            found: `flow ${f.purpose} (port ${f.port}) is not mutual TLS`,
            required: "mTLS between CA components, to the HSM, audit sink and replica",
            fix: "give both ends certificates (the client's certificate, the server's TLS identity and client CA, mounted from Secrets: LCA-NET-07 checks them), then declare the flow with { mtls: true }",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-NET-07",
    title: "A flow's mTLS is proven by client-certificate configuration on both ends",
    rfc3647: "6.7",
    references: ["NCSSR 1.2.2", "NCSSR 2.2.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "Declaring a flow mTLS proves nothing: for every mTLS flow between the CA's own services (pki-services workloads), the synthesized server mounts its TLS identity and client CA (a `tls` / `publish-tls` Secret; `--client-ca` wherever it names `--tls-cert`) and the client mounts a client certificate (a `*client*` Secret other than the HSM's); for every flow into a CloudNativePG database, the Cluster names its server TLS and client CA Secrets and its pg_hba refuses connections without TLS and TLS logins without a client certificate (`hostssl … cert` or `clientcert=verify-full`), and the client runs with PGSSLMODE=verify-full and PGSSLCERT, PGSSLKEY, PGSSLROOTCERT in a mounted Secret; for every flow into the audit collector, the configuration its `--config` names (in a mounted ConfigMap) serves the port over TLS with `tls.verify_client_cert on` and its certificate, key and client CA in a mounted Secret, and the shipper has AUDIT_SYSLOG_CERT, _KEY, _CA in a mounted Secret (the collector's output to the sink likewise presents a client certificate); for streaming replication between sites, the primary Cluster names its server TLS and client CA Secrets and the replica connects with sslmode verify-full and its streaming_replica certificate; so the connection cannot be made without one (NCSSR 1.2.2 authenticated connections).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const comp = new Map(m.components.map((c) => [c.id, c]));
      for (const f of m.flows) {
        // The collector's own end toward the audit sink (the sink's end is outside the topology).
        if (f.mtls && f.from.type === "component" && f.to.type === "external" && f.to.kind === "audit-sink") {
          const collector = comp.get(f.from.id);
          const w = collector && workloadResource(ctx.resources, collector);
          const problems = w ? collectorProblems(collector.id, w.pod as Pod, w.resource.stack, ctx.resources, { sinkPort: f.port }) : [];
          if (problems.length)
            out.push({
              key: `flow:${f.site}:${f.from.id}->${f.to.name}:${f.port}`,
              path: f.path,
              found: `mTLS flow '${f.purpose}' (port ${f.port}): ${problems.join("; ")}`,
              required: "the collector's syslog output with tls on, tls.verify on and a client certificate from a mounted Secret",
              fix: "create the collector with the AuditLog construct",
            });
          continue;
        }
        // Streaming replication between sites: the primary verifies the replica's streaming_replica
        // certificate against its client CA (CloudNativePG's own `hostssl … cert` line); the
        // replica verifies the primary's name and presents that certificate.
        const replicaOut = f.from.type === "component" && f.to.type === "external" && f.to.kind === "replication";
        const replicaIn = f.from.type === "external" && f.from.kind === "replication" && f.to.type === "component";
        if (f.mtls && (replicaOut || replicaIn)) {
          const db = comp.get(f.from.type === "component" ? f.from.id : f.to.type === "component" ? f.to.id : "");
          const cluster = db && ctx.resources.at(`${db.path}/cluster`);
          const problems = cluster ? replicationProblems(db.id, cluster, replicaOut ? "replica" : "primary") : [];
          if (problems.length)
            out.push({
              key: `flow:${f.site}:${f.from.type === "component" ? f.from.id : f.from.name}->${f.to.type === "component" ? f.to.id : f.to.name}:${f.port}`,
              path: f.path,
              found: `mTLS flow '${f.purpose}' (port ${f.port}): ${problems.join("; ")}`,
              required: "the primary's server TLS and client CA; the replica's verify-full connection with its streaming_replica certificate",
              fix: "create both clusters with the Database construct (spec.certificates; externalClusters with sslmode verify-full, sslCert, sslKey, sslRootCert)",
            });
          continue;
        }
        if (!f.mtls || f.from.type !== "component" || f.to.type !== "component") continue;
        const client = comp.get(f.from.id),
          server = comp.get(f.to.id);
        if (!client || !server) continue;
        const cw = workloadResource(ctx.resources, client);
        if (!cw) continue;
        let problems: string[];
        let fix: string;
        if (server.kind === "database") {
          const cluster = ctx.resources.at(`${server.path}/cluster`);
          if (!cluster) continue;
          problems = [...databaseServerProblems(server.id, cluster), ...databaseClientProblems(client.id, cw.pod as Pod)];
          fix = `give the Cluster of ${server.id} spec.certificates (serverTLSSecret, serverCASecret, clientCASecret) and pg_hba 'hostnossl all all all reject' + 'hostssl all all all scram-sha-256 clientcert=verify-full', and grant ${client.id} through database.grantRead/grantReadWrite (PGSSLMODE verify-full, the role's client certificate Secret)`;
        } else if (server.kind === "audit-collector") {
          const sw = workloadResource(ctx.resources, server);
          if (!sw) continue;
          problems = [...collectorProblems(server.id, sw.pod as Pod, sw.resource.stack, ctx.resources, { port: f.port }), ...auditShipperProblems(client.id, cw.pod as Pod)];
          fix = `serve the collector's syslog input with tls on, tls.verify_client_cert on and its certificate, key and client CA from a mounted Secret, and ship from ${client.id} through auditLog.ship (AUDIT_SYSLOG_CERT, _KEY, _CA in a mounted Secret)`;
        } else if (client.role && server.role) {
          const sw = workloadResource(ctx.resources, server);
          if (!sw) continue;
          problems = serviceProblems(client.id, cw.pod as Pod, server.id, sw.pod as Pod);
          fix = `mount the client certificate Secret in ${client.id} and the TLS Secret (tls.crt, tls.key, ca.crt) in ${server.id}, and start both with them`;
        } else continue;
        if (problems.length)
          out.push({
            key: `flow:${f.site}:${client.id}->${server.id}:${f.port}`,
            path: f.path,
            found: `mTLS flow '${f.purpose}' (port ${f.port}): ${problems.join("; ")}`,
            required: "the client's certificate and the server's TLS identity and client CA configured on both ends",
            fix,
          });
      }
      return out;
    },
  },
];

type Pod = {
  volume?: { name?: string; secret?: { secret_name?: string }[]; config_map?: { name?: string }[] }[];
  container?: { args?: string[]; env?: { name?: string; value?: string }[]; volume_mount?: { name?: string; mount_path?: string }[] }[];
};
const secretVolumes = (pod: Pod) => (pod.volume ?? []).filter((v) => v.secret?.length).map((v) => v.name ?? "");
/** Client-certificate volumes of other flows, which prove nothing about a service flow. */
const OTHER_CLIENT_CERTS = new Set(["hsm-client-cert", "db-client-tls", "audit-client-tls"]);

function serviceProblems(clientId: string, client: Pod, serverId: string, server: Pod): string[] {
  const problems: string[] = [];
  if (!secretVolumes(client).some((n) => /client/.test(n) && !OTHER_CLIENT_CERTS.has(n))) problems.push(`${clientId} mounts no client certificate`);
  if (!secretVolumes(server).some((n) => n === "tls" || n === "publish-tls")) problems.push(`${serverId} mounts no TLS identity with a client CA`);
  const args = (server.container ?? []).flatMap((c) => c.args ?? []);
  if (args.some((a) => a.startsWith("--tls-cert")) && !args.some((a) => a.startsWith("--client-ca"))) problems.push(`${serverId} serves TLS without --client-ca`);
  return problems;
}

/** The files named by `vars` in the container's environment, each inside a mounted Secret. */
function filesInSecrets(pod: Pod, vars: string[]): { missing: string[]; env: Map<string, string> } {
  const secrets = new Set(secretVolumes(pod));
  const env = new Map<string, string>();
  const mounts: string[] = [];
  for (const c of pod.container ?? []) {
    for (const e of c.env ?? []) if (e.name && e.value !== undefined) env.set(e.name, e.value);
    for (const v of c.volume_mount ?? []) if (v.name && secrets.has(v.name) && v.mount_path) mounts.push(v.mount_path.replace(/\/$/, ""));
  }
  const missing = vars.filter((n) => {
    const file = env.get(n);
    return !file || !mounts.some((d) => file.startsWith(`${d}/`));
  });
  return { missing, env };
}

/** The sections of a Fluent Bit classic configuration file, keys lower-cased. */
function fluentBitSections(text: string): { name: string; entries: Map<string, string> }[] {
  const sections: { name: string; entries: Map<string, string> }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const head = /^\[([A-Za-z_]+)\]$/.exec(line);
    if (head) sections.push({ name: head[1].toUpperCase(), entries: new Map() });
    else {
      const [k, ...v] = line.split(/\s+/);
      sections.at(-1)?.entries.set(k.toLowerCase(), v.join(" "));
    }
  }
  return sections;
}

/** The collector's end, from the configuration file its `--config` names in a mounted ConfigMap:
 *  the syslog input on `port` requires client certificates, or the output to `sinkPort` presents one. */
function collectorProblems(serverId: string, pod: Pod, stack: string, res: SynthesizedResources, on: { port?: number; sinkPort?: number }): string[] {
  const c = pod.container?.[0];
  const configPath = (c?.args ?? []).map((a) => /^(?:--config=|-c=?)(.+)$/.exec(a)?.[1]).find((x) => x) ?? "";
  const dir = (m: { mount_path?: string }) => (m.mount_path ?? "").replace(/\/$/, "");
  const mount = (c?.volume_mount ?? []).find((v) => v.mount_path && configPath.startsWith(`${dir(v)}/`));
  const configMap = mount && (pod.volume ?? []).find((v) => v.name === mount.name)?.config_map?.[0]?.name;
  const cm = configMap ? res.ofType("kubernetes_config_map_v1").find((r) => r.stack === stack && (r.body.metadata as { name?: string })?.name === configMap) : undefined;
  const text = cm && mount ? (cm.body.data as Record<string, string> | undefined)?.[configPath.slice(dir(mount).length + 1)] : undefined;
  if (!text) return [`${serverId} has no configuration in a mounted ConfigMap (its --config names ${configPath || "nothing"})`];
  const sections = fluentBitSections(text);
  const files = (e: Map<string, string>, keys: string[]) => {
    const { missing } = filesInSecrets({ ...pod, container: [{ ...c, env: keys.map((k) => ({ name: k, value: e.get(k) })) }] }, keys);
    return missing;
  };
  const problems: string[] = [];
  if (on.port !== undefined) {
    const input = sections.find((x) => x.name === "INPUT" && x.entries.get("port") === String(on.port));
    if (!input) return [`${serverId} configures no input on port ${on.port}`];
    const e = input.entries;
    if (e.get("tls") !== "on") problems.push(`${serverId} input on port ${on.port} is not TLS`);
    else if (e.get("tls.verify") === "off" || e.get("tls.verify_client_cert") !== "on") problems.push(`${serverId} input on port ${on.port} does not require client certificates (tls.verify_client_cert on)`);
    const missing = files(e, ["tls.crt_file", "tls.key_file", "tls.ca_file"]);
    if (missing.length) problems.push(`${serverId} input on port ${on.port}: ${missing.join(", ")} not in a mounted Secret`);
  }
  if (on.sinkPort !== undefined) {
    const output = sections.find((x) => x.name === "OUTPUT" && x.entries.get("port") === String(on.sinkPort));
    if (!output) return [`${serverId} configures no output to port ${on.sinkPort}`];
    const e = output.entries;
    if (e.get("tls") !== "on" || e.get("tls.verify") === "off") problems.push(`${serverId} output to port ${on.sinkPort} does not verify the sink over TLS`);
    const missing = files(e, ["tls.crt_file", "tls.key_file", "tls.ca_file"]);
    if (missing.length) problems.push(`${serverId} output to port ${on.sinkPort} presents no client certificate (${missing.join(", ")} not in a mounted Secret)`);
  }
  return problems;
}

/** The client end of an audit flow: the shipper's client certificate to the collector. */
function auditShipperProblems(clientId: string, pod: Pod): string[] {
  const { missing } = filesInSecrets(pod, ["AUDIT_SYSLOG_CERT", "AUDIT_SYSLOG_KEY", "AUDIT_SYSLOG_CA"]);
  return missing.length ? [`${clientId} ships its audit log with no client certificate (${missing.join(", ")} not in a mounted Secret)`] : [];
}

/** The client end of a PostgreSQL flow: libpq's verify-full and a client certificate. */
function databaseClientProblems(clientId: string, pod: Pod): string[] {
  const problems: string[] = [];
  const { missing, env } = filesInSecrets(pod, ["PGSSLCERT", "PGSSLKEY", "PGSSLROOTCERT"]);
  if (env.get("PGSSLMODE") !== "verify-full") problems.push(`${clientId} does not verify the server (PGSSLMODE ${env.get("PGSSLMODE") ?? "unset"}, not verify-full)`);
  if (missing.length) problems.push(`${clientId} presents no client certificate (${missing.join(", ")} not in a mounted Secret)`);
  return problems;
}

type ClusterSpec = {
  certificates?: { serverTLSSecret?: string; serverCASecret?: string; clientCASecret?: string };
  postgresql?: { pg_hba?: string[] };
  externalClusters?: { name?: string; connectionParameters?: { sslmode?: string }; sslCert?: { name?: string }; sslKey?: { name?: string }; sslRootCert?: { name?: string } }[];
  replica?: { source?: string };
};
const clusterSpec = (cluster: TfResource) => ((cluster.body.manifest as { spec?: ClusterSpec } | undefined)?.spec ?? {}) as ClusterSpec;

/** Both ends of streaming replication, from each site's Cluster. */
function replicationProblems(dbId: string, cluster: TfResource, end: "primary" | "replica"): string[] {
  const spec = clusterSpec(cluster);
  if (end === "primary") {
    const certs = spec.certificates ?? {};
    const absent = (["serverTLSSecret", "clientCASecret"] as const).filter((k) => !certs[k]);
    return absent.length ? [`${dbId} names no ${absent.join(", ")} (spec.certificates) to verify the replica's certificate`] : [];
  }
  const source = spec.externalClusters?.find((x) => x.name === spec.replica?.source);
  if (!source) return [`${dbId} names no external cluster for its replica source '${spec.replica?.source ?? ""}'`];
  const problems: string[] = [];
  if (source.connectionParameters?.sslmode !== "verify-full") problems.push(`${dbId} does not verify the primary (sslmode ${source.connectionParameters?.sslmode ?? "unset"}, not verify-full)`);
  const absent = (["sslCert", "sslKey", "sslRootCert"] as const).filter((k) => !source[k]?.name);
  if (absent.length) problems.push(`${dbId} presents no streaming_replica certificate (${absent.join(", ")} not set)`);
  return problems;
}

/** pg_hba options of a line: `clientcert=verify-full` etc. */
const HBA_ALL = /^(hostssl|hostnossl|host)\s+all\s+all\s+(all|0\.0\.0\.0\/0)\s+(\S+)(.*)$/;

/** The server end of a PostgreSQL flow: the CloudNativePG Cluster's certificates and pg_hba.
 *  CloudNativePG appends `host all all all <method>` after the user's lines, so the user's lines
 *  must refuse non-TLS connections and require a client certificate on every TLS login. */
function databaseServerProblems(serverId: string, cluster: TfResource): string[] {
  const problems: string[] = [];
  const spec = clusterSpec(cluster);
  const certs = spec.certificates ?? {};
  const absent = (["serverTLSSecret", "serverCASecret", "clientCASecret"] as const).filter((k) => !certs[k]);
  if (absent.length) problems.push(`${serverId} names no ${absent.join(", ")} (spec.certificates)`);
  const lines = (spec.postgresql?.pg_hba ?? []).map((l) => l.trim().replace(/\s+/g, " "));
  let noTls: "refused" | "admitted" | undefined;
  let tls: "certificate" | "admitted" | undefined;
  for (const line of lines) {
    const h = HBA_ALL.exec(line);
    if (!h) {
      // A narrower line before the catch-alls: it must itself refuse or require a certificate.
      if (/^host(nossl)?\s/.test(line) && !/\sreject$/.test(line)) problems.push(`${serverId} pg_hba line '${line}' admits connections without TLS`);
      else if (/^hostssl\s/.test(line) && !/\scert(\s|$)|clientcert=verify-(ca|full)/.test(line)) problems.push(`${serverId} pg_hba line '${line}' admits TLS logins without a client certificate`);
      continue;
    }
    const [, type, , method, options] = h;
    const cert = method === "cert" || /clientcert=verify-(ca|full)/.test(options);
    if (type !== "hostssl" && noTls === undefined) noTls = method === "reject" ? "refused" : "admitted";
    if (type !== "hostnossl" && tls === undefined) tls = method === "reject" || cert ? "certificate" : "admitted";
  }
  if (noTls !== "refused") problems.push(`${serverId} pg_hba admits connections without TLS (no 'hostnossl all all all reject' before CloudNativePG's final 'host all all all')`);
  if (tls !== "certificate") problems.push(`${serverId} pg_hba admits TLS logins without a client certificate (no 'hostssl all all all cert' or 'clientcert=verify-full')`);
  return problems;
}

export type { TopologyJson };
